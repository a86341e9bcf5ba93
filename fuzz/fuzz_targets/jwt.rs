//! The JWT decoder and verifier on arbitrary tokens: errors, never panics;
//! a forged token never verifies with the fixed secret.
#![no_main]

use driftgate::jwt;
use driftgate::secret::Secret;
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let secret = Secret::new(SECRET);
    let _ = jwt::decode_for_display(&token);
    let _ = jwt::token_algorithm(&token);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        // Without the secret an input cannot carry a valid HMAC, so any
        // `Ok` means the verifier accepts what it must not (alg none, an
        // empty signature, ...).
        assert!(
            jwt::verify_signature(&token, &secret, alg).is_err(),
            "a fuzz input verified"
        );
    }
    let signers = jwt::find_signers(&token, &[("fixed", &secret)]);
    assert!(signers.is_empty(), "a fuzz input named a signer");
});
