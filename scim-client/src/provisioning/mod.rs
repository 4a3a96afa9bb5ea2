//! Automatic provisioning: identities from any connector-core `Source` kept in sync
//! with a SCIM 2.0 service, the way Microsoft Entra's provisioning service does it.

pub mod expr;
pub mod mapping;
pub mod scope;
