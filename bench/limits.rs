//! The machine's own limits for Latchkey's hot paths, measured beside the endpoints by
//! `bench/limits.sh`: what the token endpoint, introspection and discovery would reach if they
//! did nothing but their one unavoidable piece of work.
//!
//! - `limits sign SECONDS THREADS JWT`: raw ES256 signing with aws-lc-rs (a key parsed once) of
//!   the same signing input as `JWT`, a token the server issued.
//! - `limits verify SECONDS THREADS JWT X Y`: raw ES256 verification of `JWT` against the public
//!   key with base64url coordinates `X`, `Y` (from the server's JWKS).
//! - `limits bare PORT FILE`: a bare axum server answering every GET with the bytes of `FILE`
//!   (`application/json`), on the same runtime defaults as `latchkey serve`.
//!
//! The raw runs print `rate=<per second>`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sign") => sign(&args[1..]),
        Some("verify") => verify(&args[1..]),
        Some("bare") => bare(&args[1..]),
        _ => {
            eprintln!("usage: limits sign|verify|bare …");
            std::process::exit(2);
        }
    }
}

/// Runs `work` on `threads` threads for `seconds` and prints the combined rate.
fn rate(seconds: u64, threads: usize, work: impl Fn() + Send + Sync + 'static) {
    let work = Arc::new(work);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (work, done, stop) = (work.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    work();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("rate={:.0}", done.load(Ordering::Relaxed) as f64 / elapsed);
}

fn run_args(args: &[String]) -> (u64, usize, String) {
    let seconds = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let jwt = args.get(2).cloned().expect("a JWT");
    (seconds, threads, jwt)
}

fn sign(args: &[String]) {
    let (seconds, threads, jwt) = run_args(args);
    let input = jwt.rsplit_once('.').expect("a compact JWS").0.as_bytes().to_vec();
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    rate(seconds, threads, move || {
        let signature = key.sign(&SystemRandom::new(), &input).unwrap();
        std::hint::black_box(URL_SAFE_NO_PAD.encode(signature.as_ref()));
    });
}

fn verify(args: &[String]) {
    let (seconds, threads, jwt) = run_args(args);
    let coordinate = |i: usize| URL_SAFE_NO_PAD.decode(args.get(i).expect("X and Y")).unwrap();
    let mut point = vec![4u8];
    point.extend(coordinate(3));
    point.extend(coordinate(4));
    let (input, signature) = jwt.rsplit_once('.').expect("a compact JWS");
    let (input, signature) =
        (input.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(signature).unwrap());
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    key.verify(&input, &signature).expect("the token verifies against the key");
    rate(seconds, threads, move || key.verify(&input, &signature).unwrap());
}

fn bare(args: &[String]) {
    let port: u16 = args.first().and_then(|s| s.parse().ok()).expect("a port");
    let body = std::fs::read(args.get(1).expect("a file")).unwrap();
    let body = axum::body::Bytes::from(body);
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}
