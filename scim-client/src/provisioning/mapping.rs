//! Attribute mappings (being built).
