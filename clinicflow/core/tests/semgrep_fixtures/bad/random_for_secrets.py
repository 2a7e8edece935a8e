# ruff: noqa: UP031 - the string building this rule must catch
import random
import string
from random import choice


class Invite:
    token = ""


def make_reset_token() -> str:
    return "".join(random.choice(string.ascii_letters) for _ in range(32))  # ruleid


def issue(invite: Invite) -> dict[str, str]:
    otp_code = str(random.randint(100000, 999999))  # ruleid
    invite.token = "%x" % random.getrandbits(128)  # ruleid
    api_key = "".join(choice(string.hexdigits) for _ in range(40))  # ruleid
    return {"nonce": str(random.random()), "otp": otp_code, "key": api_key}  # ruleid
