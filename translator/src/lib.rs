//! fc-aot library.
