//! fc-aot: the toolchain side of Femto-Containers. Layers, each using only those above it:
//! `text`, `container` and `helpers` (files, text, the helpers a container may call), `backend` (native code), `target` (where
//! programs run), `conformance` (the RFC 9669 suite), `cli` (the commands).

pub mod backend;
pub mod cli;
pub mod conformance;
pub mod container;
pub mod helpers;
pub mod target;
pub mod text;
