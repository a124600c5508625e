//! The password policy, in the spirit of NIST SP 800-63B §5.1.1.2: a
//! length floor and ceiling, no composition rules, and refusal of common,
//! breached and easily guessed passwords, judged by zxcvbn (its
//! dictionaries of common passwords, names and words, keyboard patterns,
//! repeats, sequences and dates), with the username and the product's name
//! as context.

use crate::rpc::{ApiError, ApiResult};

pub const MIN_PASSWORD_LEN: usize = 8;
/// Bounds the work one signup can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// zxcvbn looks at this many characters at most (its cost grows fast with
/// length; a longer password is not weaker for it).
pub const JUDGED_CHARS: usize = 64;
/// The lowest zxcvbn score accepted (0-4; 3: "safely unguessable:
/// moderate protection from offline slow-hash scenario", 10^8 guesses and
/// more).
pub const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks a new password for `username`; the error says what to change.
pub fn check(pw: &str, username: &str) -> ApiResult<()> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "password too short: at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if pw.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "password too long: at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    if pw.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "password must not contain control characters",
        ));
    }
    let judged: String = pw.chars().take(JUDGED_CHARS).collect();
    let entropy = zxcvbn::zxcvbn(&judged, &[username, "dfood", "distribufood", "dfoodd"]);
    if entropy.score() < MIN_SCORE {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .filter(|w| !w.is_empty())
            .map(|w| format!(" ({})", w.trim_end_matches('.').to_lowercase()))
            .unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "password too easy to guess{hint}: use a longer one, e.g. a few unrelated words"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_short_and_guessable_passwords_are_refused() {
        for pw in [
            "12345678",
            "password",
            "        ",
            "Password1",
            "qwertyuiop",
            "aaaaaaaaaaaa",
            "iloveyou123",
            "alice2024",
            "dfood2024",
            "ops password",
        ] {
            let e = check(pw, "alice").unwrap_err();
            assert_eq!(e.code, protocol::wire::ErrorCode::BadRequest, "{pw:?}");
            assert!(
                e.message.starts_with("password too"),
                "{pw:?}: {}",
                e.message
            );
        }
        assert!(
            check("short", "alice")
                .unwrap_err()
                .message
                .contains("at least 8")
        );
        assert!(
            check(&"x".repeat(2000), "alice")
                .unwrap_err()
                .message
                .contains("at most")
        );
        assert!(check("tab\there and there", "alice").is_err());
        // The username is context: "alice2024" is weak for alice.
        assert!(check("alice2024", "alice").is_err());
    }

    #[test]
    fn reasonable_passwords_pass() {
        for pw in [
            "correct horse battery",
            "long enough password",
            "tortoise umbrella kettle",
            "Xq7#vL2!pR9z",
            "robust password",
            "operator password",
        ] {
            check(pw, "alice").unwrap_or_else(|e| panic!("{pw:?}: {}", e.message));
        }
        // Long passwords are judged on their start, quickly.
        let t = std::time::Instant::now();
        check(&"correct horse battery staple ".repeat(30), "alice").unwrap();
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
