//! Reading and writing frames on quinn streams: the thin async driver over
//! the sans-IO [`crate::frame`] and [`crate::wire`] layers.

use serde::Serialize;
use thiserror::Error;

use crate::frame::{self, FrameError, HEADER_LEN};
use crate::wire::{self, WireError};

#[derive(Debug, Error)]
pub enum FrameIoError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("stream ended in the middle of a frame")]
    Truncated,
    #[error("stream error: {0}")]
    Stream(String),
}

/// Reads one frame's payload. `Ok(None)` when the peer finished the stream
/// cleanly before a new frame began. The length prefix is validated against
/// `max` before the payload buffer is allocated.
pub async fn read_frame(
    recv: &mut quinn::RecvStream,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameIoError> {
    let mut header = [0u8; HEADER_LEN];
    match recv.read_exact(&mut header).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(quinn::ReadExactError::FinishedEarly(_)) => return Err(FrameIoError::Truncated),
        Err(quinn::ReadExactError::ReadError(e)) => {
            return Err(FrameIoError::Stream(e.to_string()));
        }
    }
    let len = frame::check_header(header, max)?;
    let mut payload = vec![0u8; len];
    match recv.read_exact(&mut payload).await {
        Ok(()) => Ok(Some(payload)),
        Err(quinn::ReadExactError::FinishedEarly(_)) => Err(FrameIoError::Truncated),
        Err(quinn::ReadExactError::ReadError(e)) => Err(FrameIoError::Stream(e.to_string())),
    }
}

/// Serialises `doc` as JSON and writes it as one frame.
pub async fn write_doc(
    send: &mut quinn::SendStream,
    doc: &impl Serialize,
    max: usize,
) -> Result<(), FrameIoError> {
    let payload = wire::encode_doc(doc)?;
    let bytes = frame::encode(&payload, max)?;
    send.write_all(&bytes)
        .await
        .map_err(|e| FrameIoError::Stream(e.to_string()))
}
