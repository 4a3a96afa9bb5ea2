//! Scoping filters (being built).
