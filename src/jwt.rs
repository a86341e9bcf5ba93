//! JSON Web Tokens: mint, verify, decode for display, and name the signer.
//!
//! TODO(helper): implement (HS256/384/512, refuse `alg: none`).
