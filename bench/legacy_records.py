#!/usr/bin/env python3
"""Writes N realistic legacy user records as JSON Lines to stdout, for bench/legacy_import.sh:
ids, usernames, addresses, names, creation and last-login times, a few inactive users, and a
password hash in every format Latchkey imports (a pool of real hashes from the reference
implementations, crates/core/src/credentials/legacy/legacy_hashes.json, reused so generating a
million records takes seconds, not days of bcrypt).

    python3 bench/legacy_records.py 1000000 > users.jsonl
"""
import json
import pathlib
import random
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
pool_file = pathlib.Path(__file__).resolve().parent.parent / "crates/core/src/credentials/legacy/legacy_hashes.json"
pool = [v["hash"] for v in json.loads(pool_file.read_text())]
first = ["ana", "ben", "chloé", "dev", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lena", "mo", "nia", "omar", "pia"]
last = ["smith", "garcia", "müller", "okafor", "tanaka", "rossi", "kowalski", "nguyen", "dubois", "silva"]
rng = random.Random(42)
out = sys.stdout
for i in range(count):
    f, l = rng.choice(first), rng.choice(last)
    login = f"{f}.{l}".encode("ascii", "ignore").decode()
    created = 1_300_000_000 + rng.randrange(300_000_000)
    record = {
        "legacy_id": str(100000 + i),
        "username": f"{login}{i}",
        "email": f"{login}.{i}@example.com",
        "name": f"{f.title()} {l.title()}",
        "password_hash": pool[i % len(pool)],
        "active": rng.random() > 0.03,
        "created_at": created,
        "last_login_at": created + rng.randrange(200_000_000) if rng.random() > 0.1 else None,
    }
    out.write(json.dumps(record, ensure_ascii=False))
    out.write("\n")
