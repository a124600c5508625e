//! Hot pure code of the wire: framing and the JSON envelopes of a
//! placement. `cargo bench -p protocol --bench frame`.

use divan::{Bencher, black_box};
use protocol::frame::{self, MAX_FRAME_LEN};
use protocol::messages::orders::{LineRequest, PlaceOrder};
use protocol::wire::{self, Request, ServerFrame};

fn main() {
    divan::main();
}

fn place_request() -> Request {
    let body = PlaceOrder {
        service: None,
        restaurant: "trattoria".into(),
        lines: vec![
            LineRequest {
                sku: "margherita".into(),
                qty: 2,
                modifiers: vec!["extra_cheese".into()],
                expected_unit_price: Some(1100),
            },
            LineRequest {
                sku: "tiramisu".into(),
                qty: 1,
                modifiers: vec![],
                expected_unit_price: Some(600),
            },
        ],
        note: "no onions please".into(),
        payment_method: "pm_card_visa".into(),
        idempotency_key: "bench-18f2a9c4d1e-42".into(),
    };
    let mut r = Request::new("order.place", body).expect("request");
    r.id = Some("r42".into());
    r.token = Some("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c3JfMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl".into());
    r
}

/// A frame of `n` payload bytes.
fn frame_of(n: usize) -> Vec<u8> {
    frame::encode(&vec![b'x'; n], MAX_FRAME_LEN).expect("frame")
}

#[divan::bench(args = [64, 1024, 16 * 1024, 512 * 1024])]
fn encode(bencher: Bencher, n: usize) {
    let payload = vec![b'x'; n];
    bencher
        .counter(divan::counter::BytesCount::new(n))
        .bench(|| frame::encode(black_box(&payload), MAX_FRAME_LEN));
}

#[divan::bench(args = [64, 1024, 16 * 1024, 512 * 1024])]
fn decode(bencher: Bencher, n: usize) {
    let f = frame_of(n);
    bencher
        .counter(divan::counter::BytesCount::new(n))
        .bench(|| frame::decode(black_box(&f), MAX_FRAME_LEN));
}

/// A buffer holding 100 small frames, decoded one after another (what a
/// reader does with a burst of events).
#[divan::bench]
fn decode_burst_of_100(bencher: Bencher) {
    let mut buf = Vec::new();
    for _ in 0..100 {
        buf.extend_from_slice(&frame_of(200));
    }
    bencher.bench(|| {
        let mut at = 0;
        let mut n = 0;
        while let Ok(frame::Decoded::Frame { consumed, .. }) =
            frame::decode(black_box(&buf[at..]), MAX_FRAME_LEN)
        {
            at += consumed;
            n += 1;
        }
        n
    });
}

#[divan::bench]
fn encode_place_request(bencher: Bencher) {
    let r = place_request();
    bencher.bench(|| {
        let doc = wire::encode_doc(black_box(&r)).expect("encode");
        frame::encode(&doc, MAX_FRAME_LEN).expect("frame")
    });
}

#[divan::bench]
fn decode_place_request(bencher: Bencher) {
    let f = frame::encode(
        &wire::encode_doc(&place_request()).expect("encode"),
        MAX_FRAME_LEN,
    )
    .expect("frame");
    bencher.bench(|| {
        let frame::Decoded::Frame { payload, .. } =
            frame::decode(black_box(&f), MAX_FRAME_LEN).expect("frame")
        else {
            unreachable!("whole frame")
        };
        let r = wire::decode_request(payload).expect("request");
        r.body_as::<PlaceOrder>().expect("body")
    });
}

#[divan::bench]
fn decode_error_frame(bencher: Bencher) {
    let doc = wire::encode_doc(&ServerFrame::error(
        Some("r7".into()),
        wire::ErrorCode::Conflict,
        "cannot complete an order that is cancelled",
    ))
    .expect("encode");
    bencher.bench(|| wire::decode_server_frame(black_box(&doc)));
}
