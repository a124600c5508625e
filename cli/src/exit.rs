//! The one table of `dfood` exit codes. Scripts rely on these: they are
//! listed in `dfood --help` and the man page, and never change meaning.

use protocol::client::ClientError;
use protocol::wire::ErrorCode;

pub const OK: u8 = 0;
/// Any failure not listed below.
pub const FAILURE: u8 = 1;
/// Bad flags or arguments (clap's own code).
pub const USAGE: u8 = 2;
pub const NOT_FOUND: u8 = 3;
/// A guarded change lost a race, or the state does not allow it.
pub const CONFLICT: u8 = 4;
/// Not logged in, or the token is bad or expired.
pub const UNAUTHENTICATED: u8 = 5;
/// Logged in, but not allowed.
pub const FORBIDDEN: u8 = 6;
/// The daemon or its store cannot be reached; retrying later may work.
pub const UNAVAILABLE: u8 = 7;
pub const PAYMENT_DECLINED: u8 = 8;
/// The daemon spoke something this client does not understand (versions).
pub const PROTOCOL: u8 = 9;
/// Local configuration problem: bad config file, missing or bad CA file.
pub const CONFIG: u8 = 10;

/// Rendered into `dfood --help` and the man page.
pub const TABLE: &str = "Exit codes:
   0  success
   1  failure not listed below
   2  usage: bad flags or arguments
   3  not found
   4  conflict: the state changed or does not allow this
   5  unauthenticated: log in again
   6  forbidden: your role does not allow this
   7  unavailable: daemon or store unreachable; retry later
   8  payment declined
   9  protocol error: client and daemon do not understand each other
  10  local configuration error (config file, CA file)";

pub fn for_error_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::NotFound => NOT_FOUND,
        ErrorCode::Conflict => CONFLICT,
        ErrorCode::Unauthenticated => UNAUTHENTICATED,
        ErrorCode::Forbidden => FORBIDDEN,
        ErrorCode::Unavailable => UNAVAILABLE,
        ErrorCode::PaymentDeclined => PAYMENT_DECLINED,
        ErrorCode::ProtocolError | ErrorCode::TooLarge | ErrorCode::Unsupported => PROTOCOL,
        ErrorCode::BadRequest => USAGE,
        ErrorCode::Compacted | ErrorCode::Internal | ErrorCode::Unknown => FAILURE,
    }
}

pub fn for_client_error(e: &ClientError) -> u8 {
    match e {
        ClientError::Server(body) => for_error_code(body.code),
        ClientError::Tls(_) | ClientError::Endpoint { .. } => CONFIG,
        ClientError::Connect { .. }
        | ClientError::Timeout { .. }
        | ClientError::Transport { .. }
        | ClientError::GoingAway { .. } => UNAVAILABLE,
        ClientError::Protocol { .. } => PROTOCOL,
    }
}
