//! Hand-written building blocks (L2) on the generated L1 types.
