//! A product's user export as an administrator uploads it: JSON Lines and CSV files read in
//! batches, each line checked, and the legacy password hash strings they carry (bcrypt, Crowd
//! PKCS5S2, PBKDF2, …). Any line may be refused; none may panic.
#![no_main]

use latchkey_core::credentials::legacy::LegacyHash;
use latchkey_core::legacy::reader::{ImportFormat, ImportReader};
use libfuzzer_sys::fuzz_target;

fn read_all(data: &[u8], format: ImportFormat) {
    let Ok(mut reader) = ImportReader::new(data, format) else { return };
    // Every batch holds at least one line; the input bounds the number of batches.
    for _ in 0..=data.len() {
        match reader.batch() {
            Ok(lines) if lines.is_empty() => return,
            Ok(lines) => {
                for (_, line) in lines {
                    if let Ok(record) = line {
                        let _ = record.validate("fuzzed-product");
                    }
                }
            }
            Err(_) => return,
        }
    }
    panic!("the reader never reached the end");
}

fuzz_target!(|data: &[u8]| {
    read_all(data, ImportFormat::Jsonl);
    read_all(data, ImportFormat::Csv);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = LegacyHash::parse(text);
    }
});
