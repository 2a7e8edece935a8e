import random
import secrets
import string


def make_reset_token() -> str:
    return secrets.token_urlsafe(32)


def issue() -> dict[str, str]:
    otp_code = f"{secrets.randbelow(1_000_000):06d}"
    api_key = "".join(secrets.choice(string.hexdigits) for _ in range(40))
    jitter = random.uniform(0.5, 1.5)  # not a secret: spreads retries
    sample = random.sample(range(100), 5)
    return {"otp": otp_code, "key": api_key, "jitter": str(jitter), "sample": str(sample)}
