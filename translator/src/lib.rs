//! fc-aot: the toolchain side of Femto-Containers. Layers, each using only those above it:
//! `text` and `container` (files and text), `backend` (native code), `target` (where
//! programs run), `conformance` (the RFC 9669 suite), `cli` (the commands).

pub mod backend;
pub mod cli;
pub mod conformance;
pub mod container;
pub mod target;
pub mod text;
