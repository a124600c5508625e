//! Length-prefixed framing.
//!
//! A frame is a 4-byte big-endian unsigned length `N` followed by `N` bytes of
//! payload (a UTF-8 JSON document, see [`crate::wire`]). `N` must be between 1
//! and the receiver's limit ([`MAX_FRAME_LEN`] by default). The length is
//! checked before any buffer for the payload is allocated, so a hostile
//! length prefix costs the receiver nothing.
//!
//! This module does no I/O: [`decode`] looks at whatever bytes have arrived
//! and answers "incomplete", "here is a frame", or an error.

use thiserror::Error;

/// Bytes in the length prefix.
pub const HEADER_LEN: usize = 4;

/// Default largest payload accepted: 1 MiB.
pub const MAX_FRAME_LEN: usize = 1 << 20;

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The length prefix announces more than the receiver accepts.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// A zero length prefix: frames always carry a document.
    #[error("empty frame (length prefix 0)")]
    Empty,
}

/// What [`decode`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// Not enough bytes yet; at least `needed` more must arrive.
    Incomplete { needed: usize },
    /// A whole frame: its payload, and how many bytes of the buffer it used.
    Frame { payload: &'a [u8], consumed: usize },
}

/// Reads the length prefix of a frame and validates it against `max`.
pub fn check_header(header: [u8; HEADER_LEN], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(len)
}

/// Looks for one frame at the start of `buf`.
pub fn decode(buf: &[u8], max: usize) -> Result<Decoded<'_>, FrameError> {
    if buf.len() < HEADER_LEN {
        return Ok(Decoded::Incomplete {
            needed: HEADER_LEN - buf.len(),
        });
    }
    let header: [u8; HEADER_LEN] = buf[..HEADER_LEN].try_into().expect("4 bytes");
    let len = check_header(header, max)?;
    let end = HEADER_LEN + len;
    if buf.len() < end {
        return Ok(Decoded::Incomplete {
            needed: end - buf.len(),
        });
    }
    Ok(Decoded::Frame {
        payload: &buf[HEADER_LEN..end],
        consumed: end,
    })
}

/// Wraps `payload` in a frame. Fails if it is empty or larger than `max`.
pub fn encode(payload: &[u8], max: usize) -> Result<Vec<u8>, FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Empty);
    }
    if payload.len() > max {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max,
        });
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let f = encode(b"{}", MAX_FRAME_LEN).unwrap();
        assert_eq!(f, [0, 0, 0, 2, b'{', b'}']);
        assert_eq!(
            decode(&f, MAX_FRAME_LEN).unwrap(),
            Decoded::Frame {
                payload: b"{}",
                consumed: 6
            }
        );
    }

    #[test]
    fn incomplete_header_and_body() {
        assert_eq!(
            decode(&[0, 0], 10).unwrap(),
            Decoded::Incomplete { needed: 2 }
        );
        assert_eq!(
            decode(&[0, 0, 0, 5, 1], 10).unwrap(),
            Decoded::Incomplete { needed: 4 }
        );
    }

    #[test]
    fn oversized_prefix_is_refused_before_the_body_arrives() {
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], MAX_FRAME_LEN),
            Err(FrameError::TooLarge {
                len: u32::MAX as usize,
                max: MAX_FRAME_LEN
            })
        );
        assert_eq!(decode(&[0, 0, 0, 0], 10), Err(FrameError::Empty));
        assert!(encode(&[1; 11], 10).is_err());
        assert!(encode(&[], 10).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 1usize..40) {
            match decode(&bytes, max) {
                Ok(Decoded::Frame { payload, consumed }) => {
                    prop_assert!(consumed <= bytes.len());
                    prop_assert!(payload.len() <= max && !payload.is_empty());
                    prop_assert_eq!(consumed, payload.len() + HEADER_LEN);
                }
                Ok(Decoded::Incomplete { needed }) => prop_assert!(needed > 0),
                Err(_) => {}
            }
        }

        #[test]
        fn encode_then_decode_is_identity(payload in proptest::collection::vec(any::<u8>(), 1..512), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut f = encode(&payload, 512).unwrap();
            f.extend_from_slice(&tail);
            match decode(&f, 512).unwrap() {
                Decoded::Frame { payload: p, consumed } => {
                    prop_assert_eq!(p, &payload[..]);
                    prop_assert_eq!(consumed, payload.len() + HEADER_LEN);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn every_split_point_is_incomplete_until_whole(payload in proptest::collection::vec(any::<u8>(), 1..64)) {
            let f = encode(&payload, 64).unwrap();
            for cut in 0..f.len() {
                let is_incomplete = matches!(decode(&f[..cut], 64), Ok(Decoded::Incomplete { .. }));
                prop_assert!(is_incomplete);
            }
        }
    }
}
