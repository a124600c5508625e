//! The order state machine, as plain functions: no store, no clock, no I/O,
//! so every transition can be tested exhaustively.
//!
//! ```text
//! pending_payment ─authorised─▶ placed ─accept─▶ accepted ─start─▶ preparing ─ready─▶ ready ─complete─▶ completed
//!        │                        ├─reject─▶ rejected
//!        └─declined─▶ payment_failed ├─cancel─▶ cancelled
//!                                 └─expire─▶ expired
//! ```
//!
//! What happens to the money rides on the transition: accepting starts the
//! capture; rejecting, cancelling or expiring starts the void (and gives the
//! stock back).

use protocol::messages::orders::{OrderState, PaymentState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PaymentAuthorized,
    PaymentFailed,
    Accept,
    Reject,
    Start,
    Ready,
    Complete,
    Cancel,
    Expire,
    /// Undo the kitchen's last step (a mistaken bump): one step back.
    Recall,
}

impl Action {
    /// The verb used in refusals: "cannot accept an order that is ready".
    pub fn verb(self) -> &'static str {
        match self {
            Action::PaymentAuthorized => "confirm payment of",
            Action::PaymentFailed => "fail payment of",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Start => "start",
            Action::Ready => "mark ready",
            Action::Complete => "complete",
            Action::Cancel => "cancel",
            Action::Expire => "expire",
            Action::Recall => "recall",
        }
    }
}

/// What a legal transition leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub state: OrderState,
    /// The payment intent this transition starts, if any.
    pub payment: Option<PaymentState>,
    /// Whether reserved stock goes back on the shelf.
    pub restock: bool,
}

/// The state after `action`, or a one-line refusal.
pub fn next(state: OrderState, action: Action) -> Result<Outcome, String> {
    use Action::*;
    use OrderState as S;
    let go = |state, payment, restock| {
        Ok(Outcome {
            state,
            payment,
            restock,
        })
    };
    match (state, action) {
        (S::PendingPayment, PaymentAuthorized) => go(S::Placed, None, false),
        (S::PendingPayment, PaymentFailed) => go(S::PaymentFailed, None, true),
        (S::Placed, Accept) => go(S::Accepted, Some(PaymentState::Capturing), false),
        (S::Placed, Reject) => go(S::Rejected, Some(PaymentState::Voiding), true),
        (S::Placed, Cancel) => go(S::Cancelled, Some(PaymentState::Voiding), true),
        (S::Placed, Expire) => go(S::Expired, Some(PaymentState::Voiding), true),
        (S::Accepted, Start) => go(S::Preparing, None, false),
        (S::Preparing, Ready) => go(S::Ready, None, false),
        (S::Ready, Complete) => go(S::Completed, None, false),
        (S::Preparing, Recall) => go(S::Accepted, None, false),
        (S::Ready, Recall) => go(S::Preparing, None, false),
        (S::Completed, Recall) => go(S::Ready, None, false),
        // Back to new: the captured payment stays (accepting again
        // captures nothing more; a reject, cancel or expiry refunds it).
        (S::Accepted, Recall) => go(S::Placed, None, false),
        (S::PendingPayment, Cancel) => Err(
            "cannot cancel an order whose payment is still being confirmed; try again in a moment"
                .into(),
        ),
        (S::Accepted | S::Preparing | S::Ready, Cancel) => Err(format!(
            "cannot cancel an order that is {state}: the kitchen has accepted it"
        )),
        (s, a) => Err(format!("cannot {} an order that is {s}", a.verb())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_STATES: [OrderState; 10] = OrderState::ALL;
    const ALL_ACTIONS: [Action; 10] = [
        Action::PaymentAuthorized,
        Action::PaymentFailed,
        Action::Accept,
        Action::Reject,
        Action::Start,
        Action::Ready,
        Action::Complete,
        Action::Cancel,
        Action::Expire,
        Action::Recall,
    ];

    #[test]
    fn exactly_the_documented_transitions_are_legal() {
        let mut legal = Vec::new();
        for s in ALL_STATES {
            for a in ALL_ACTIONS {
                if let Ok(o) = next(s, a) {
                    legal.push((s, a, o.state));
                }
            }
        }
        use OrderState as S;
        assert_eq!(
            legal,
            vec![
                (S::PendingPayment, Action::PaymentAuthorized, S::Placed),
                (S::PendingPayment, Action::PaymentFailed, S::PaymentFailed),
                (S::Placed, Action::Accept, S::Accepted),
                (S::Placed, Action::Reject, S::Rejected),
                (S::Placed, Action::Cancel, S::Cancelled),
                (S::Placed, Action::Expire, S::Expired),
                (S::Accepted, Action::Start, S::Preparing),
                (S::Accepted, Action::Recall, S::Placed),
                (S::Preparing, Action::Ready, S::Ready),
                (S::Preparing, Action::Recall, S::Accepted),
                (S::Ready, Action::Complete, S::Completed),
                (S::Ready, Action::Recall, S::Preparing),
                (S::Completed, Action::Recall, S::Ready),
            ]
        );
    }

    #[test]
    fn terminal_states_allow_nothing_but_a_recall_of_completion() {
        for s in ALL_STATES.into_iter().filter(|s| s.is_terminal()) {
            for a in ALL_ACTIONS {
                if (s, a) == (OrderState::Completed, Action::Recall) {
                    continue;
                }
                assert!(next(s, a).is_err(), "{s} {a:?}");
            }
        }
    }

    #[test]
    fn refusals_read_well_and_money_follows() {
        assert_eq!(
            next(OrderState::Completed, Action::Accept).unwrap_err(),
            "cannot accept an order that is completed"
        );
        assert!(
            next(OrderState::Preparing, Action::Cancel)
                .unwrap_err()
                .contains("kitchen has accepted")
        );
        let accept = next(OrderState::Placed, Action::Accept).unwrap();
        assert_eq!(accept.payment, Some(PaymentState::Capturing));
        for a in [Action::Reject, Action::Cancel, Action::Expire] {
            let o = next(OrderState::Placed, a).unwrap();
            assert_eq!(o.payment, Some(PaymentState::Voiding));
            assert!(o.restock);
        }
        assert!(
            next(OrderState::PendingPayment, Action::PaymentFailed)
                .unwrap()
                .restock
        );
    }
}
