"""HTTPS client for tests/tls_trust.rs, written the way a Llama Stack server makes its calls.

Usage: tls_client.py LIBRARY URL EXPECTED_BODY

Makes one GET to URL with LIBRARY, built with its default construction (no `verify=`, no
`cafile=`): whatever trust the process has comes from its environment, as in the pod. Prints one
line, `OUTCOME<TAB>DETAIL`, where OUTCOME is

- `ok`: the TLS handshake verified and the body is EXPECTED_BODY;
- `verify-error`: the handshake failed certificate verification (an `ssl.SSLCertVerificationError`
  somewhere in the exception chain), the failure that an untrusted CA causes;
- `error`: anything else (a missing CA file, a refused connection, a wrong body...).

What each library reads to decide whom to trust (checked against the installed sources: Python
3.11 `ssl`, requests 2.34, httpx 0.28/0.29):

- stdlib: `ssl.create_default_context()` calls `load_default_certs()`, i.e. OpenSSL's
  `SSL_CTX_set_default_verify_paths()`, which reads the file named by `SSL_CERT_FILE` (else
  OpenSSL's compiled-in cert.pem) and the directory named by `SSL_CERT_DIR` (else its compiled-in
  certs directory). `SSL_CERT_FILE` replaces the default file; the default directory is still read.
  `urllib.request.urlopen` without `context=` builds the same default context.
- requests: `Session.merge_environment_settings` (trust_env is on by default) replaces
  `verify=True` with `REQUESTS_CA_BUNDLE`, else `CURL_CA_BUNDLE`; without either it uses certifi's
  bundle. It never reads `SSL_CERT_FILE`.
- httpx: `create_ssl_context(verify=True, trust_env=True)` (the defaults of `Client`,
  `AsyncClient` and `httpx.get`) uses `SSL_CERT_FILE` as the only CA file, else `SSL_CERT_DIR`,
  else certifi's bundle. It never reads `REQUESTS_CA_BUNDLE`. `trust_env=False` or an explicit
  `verify=<SSLContext>` ignores the environment.

Llama Stack's remote providers (vLLM, and the OpenAI-compatible ones through the `openai` SDK) call
out with `httpx.AsyncClient(verify=<tls_verify, default True>)` or the SDK's
`DefaultAsyncHttpxClient`, both httpx with `trust_env=True`, which is the `httpx-async` case here.
"""

import ssl
import sys

TIMEOUT = 60  # seconds; only so that a broken server cannot hang the test forever


def fetch_stdlib(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=TIMEOUT) as r:
        return r.read()


def fetch_requests(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.content


def fetch_httpx(url: str) -> bytes:
    import httpx

    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.get(url)
        response.raise_for_status()
        return response.content


def fetch_httpx_async(url: str) -> bytes:
    import asyncio

    import httpx

    async def get() -> bytes:
        # As Llama Stack's vLLM adapter builds it (`verify=self.config.tls_verify`, default True).
        async with httpx.AsyncClient(verify=True, timeout=TIMEOUT) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.content

    return asyncio.run(get())


LIBRARIES = {
    "stdlib": fetch_stdlib,
    "requests": fetch_requests,
    "httpx": fetch_httpx,
    "httpx-async": fetch_httpx_async,
}


def verify_error(error: BaseException):
    """The `ssl.SSLCertVerificationError` that caused `error`, if any.

    Libraries wrap it: urllib in `URLError.reason`, requests in `SSLError` -> urllib3
    `MaxRetryError.reason` -> urllib3 `SSLError.args`, httpx in `ConnectError.__cause__`.
    """
    seen = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending.append(current.__cause__)
        pending.append(current.__context__)
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return None


def main() -> None:
    library, url, expected = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    try:
        body = LIBRARIES[library](url)
    except Exception as error:  # noqa: BLE001 - every failure is reported, classified
        cause = verify_error(error)
        if cause is not None:
            print(f"verify-error\t{cause.verify_message} ({type(error).__name__}: {error})")
        else:
            print(f"error\t{type(error).__name__}: {error}")
        return
    if body == expected:
        print("ok\tverified, body as expected")
    else:
        print(f"error\tverified, but the body is {body!r}, not {expected!r}")


if __name__ == "__main__":
    main()
