//! Raw argon2id rate of this machine, with the same crate and parameters the server uses:
//! the ceiling against which login throughput is reported. Run by `bench/login.sh`.
//!
//! Usage: `argon2_rate [seconds] [threads…]`, e.g. `argon2_rate 10 1 2`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads: Vec<usize> = if args.len() > 1 {
        args[1..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![1, 2]
    };
    let params = Params::new(19_456, 2, 1, None).expect("OWASP parameters");
    for n in threads {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let (done, stop, params) = (done.clone(), stop.clone(), params.clone());
                std::thread::spawn(move || {
                    // Working memory allocated once and reused: the best this machine can do,
                    // so the ratio charges the server for everything else it does.
                    let mut memory = vec![Block::new(); params.block_count()];
                    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                    let salt = [u8::try_from(i).unwrap_or(0); 16];
                    let mut out = [0u8; 32];
                    while !stop.load(Ordering::Relaxed) {
                        argon
                            .hash_password_into_with_memory(
                                b"correct horse battery staple",
                                &salt,
                                &mut out,
                                &mut memory,
                            )
                            .unwrap();
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
        let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
        println!("argon2id_hashes_per_sec threads={n} rate={rate:.1}");
    }
}
