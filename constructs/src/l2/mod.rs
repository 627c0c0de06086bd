//! Hand-written building blocks (L2) on the generated L1 types.
//!
//! Each construct takes a scope, an id and typed props, adds L1 resources under its own path, and
//! returns typed handles other constructs wire to (a subnet handle cannot go where a security
//! group is expected).

pub mod nat_gateway;
pub mod vpc;

pub use nat_gateway::{NatGateway, NatGatewayProps};
pub use vpc::{SubnetKind, Vpc, VpcProps, VpcSubnet};
