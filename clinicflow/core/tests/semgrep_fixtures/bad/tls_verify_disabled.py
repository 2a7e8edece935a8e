import httpx
import requests


def fetch(url: str) -> bytes:
    body = requests.get(url, verify=False, timeout=5).content  # ruleid
    session = requests.Session()
    session.verify = False  # ruleid
    with httpx.Client(verify=False) as client:  # ruleid
        return body + client.get(url).content
