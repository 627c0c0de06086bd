//! The change-set deployment engine: plan (create/update/no-change), approve, execute, watch.
