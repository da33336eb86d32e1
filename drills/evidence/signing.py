"""Signing the manifest with an SSH key, as ``git`` signs commits: ``ssh-keygen -Y``.

The namespace ties a signature to drills' manifests, so a signature made for anything
else (a commit, a file) does not verify here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from drills.errors import DrillError, UsageError

NAMESPACE = "drills-evidence@drills"
SIGNATURE_SUFFIX = ".sig"
_IDENTITY = "drills-evidence-signer"


def ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise UsageError("ssh-keygen is not installed (Debian: openssh-client); it signs and "
                         "verifies evidence packs")
    return found


def check_private_key(key: Path) -> None:
    """Refuse, before anything starts, a key that cannot sign without a person."""
    if not key.is_file():
        raise UsageError(f"--sign-key {key}: no such file")
    done = subprocess.run([ssh_keygen(), "-y", "-P", "", "-f", str(key)], capture_output=True,
                          text=True, check=False, stdin=subprocess.DEVNULL, timeout=30)
    if done.returncode != 0:
        raise UsageError(f"--sign-key {key}: not an SSH private key usable without a "
                         f"passphrase ({done.stderr.strip() or 'ssh-keygen -y failed'}); a "
                         "drill signs unattended: use a key made for it")


def sign(manifest: Path, key: Path) -> Path:
    """Write ``manifest.json.sig`` beside the manifest."""
    sig = manifest.with_name(manifest.name + SIGNATURE_SUFFIX)
    sig.unlink(missing_ok=True)
    done = subprocess.run([ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", NAMESPACE,
                           str(manifest)], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=60)
    if done.returncode != 0 or not sig.exists():
        raise DrillError(f"signing {manifest} with {key} failed: {done.stderr.strip()}")
    return sig


def verify_signature(manifest: Path, public_key: Path) -> str | None:
    """None when the signature is good and made by ``public_key``; else what is wrong."""
    sig = manifest.with_name(manifest.name + SIGNATURE_SUFFIX)
    if not sig.exists():
        return f"{sig.name} is missing: the pack is not signed"
    try:
        key_line = public_key.read_text(encoding="utf-8").strip().splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise UsageError(f"--public-key {public_key}: cannot read an SSH public key "
                         f"({exc})") from exc
    with tempfile.TemporaryDirectory(prefix="drills-verify-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(f'{_IDENTITY} namespaces="{NAMESPACE}" {key_line}\n',
                           encoding="utf-8")
        with manifest.open("rb") as data:
            done = subprocess.run([ssh_keygen(), "-Y", "verify", "-f", str(allowed), "-I",
                                   _IDENTITY, "-n", NAMESPACE, "-s", str(sig)], stdin=data,
                                  capture_output=True, text=True, check=False, timeout=60)
    if done.returncode == 0:
        return None
    said = (done.stderr or done.stdout).strip().splitlines()
    return (f"{sig.name} does not verify with {public_key}: "
            f"{said[-1] if said else 'ssh-keygen -Y verify failed'}")
