//! Feeds arbitrary bytes to everything the daemon and clients decode from
//! the network: the frame decoder (at every split point), then the request
//! and server-frame documents. Nothing may panic, and a decoded frame must
//! re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::frame::{self, Decoded};
use protocol::wire;

fuzz_target!(|data: &[u8]| {
    let max = 1 << 16;
    let mut rest = data;
    while let Ok(Decoded::Frame { payload, consumed }) = frame::decode(rest, max) {
        assert_eq!(frame::encode(payload, max).unwrap(), &rest[..consumed]);
        if let Ok(req) = wire::decode_request(payload) {
            let again = wire::encode_doc(&req).unwrap();
            assert_eq!(wire::decode_request(&again).unwrap(), req);
        }
        let _ = wire::decode_server_frame(payload);
        rest = &rest[consumed..];
    }
    let _ = wire::decode_request(data);
    let _ = wire::decode_server_frame(data);
});
