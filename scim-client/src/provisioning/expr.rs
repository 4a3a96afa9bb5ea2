//! Attribute-mapping expressions (being built).
