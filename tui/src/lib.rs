//! DistribuFood's terminal UIs. [`board`] is the kitchen board
//! (`dfood board`); [`top`] is the operator dashboard (`dfood top`).
//!
//! Each UI is split the same way: a sans-IO model (state, keys →
//! actions → effects, tested without a terminal or a socket), a view that
//! only borrows the model, an event loop generic over the ratatui
//! backend, and a network task that talks to the loop over channels.

pub mod board;
pub mod term;
pub mod top;
