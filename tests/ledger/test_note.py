"""Signed notes and checkpoints: ledger.note signs, ledger.verify checks.

The PeterNeumann and EnochRoot vectors are the examples of Go's golang.org/x/mod/sumdb/note
(golang/mod, sumdb/note/note.go package documentation and note_test.go); the checkpoint
example is from the C2SP tlog-checkpoint specification (C2SP/C2SP, tlog-checkpoint.md).
"""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.note import (
    checkpoint_body,
    generate_private_key_text,
    key_id,
    load_private_key,
    parse_private_key_text,
    sign_note,
    verifier_key,
)
from ledger.verify import Checkpoint, parse_checkpoint, parse_verifier_key, verify_note

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
)
GO_NOTE = GO_TEXT + "\n" + PETER_SIG


# --------------------------------------------------------------------------- keys


def test_key_id_of_the_go_example_key_is_c74f20a3():
    public = base64.b64decode(PETER_VKEY.split("+", 2)[2])[1:]
    assert key_id("PeterNeumann", public).hex() == "c74f20a3"
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + public).digest()[:4]
    assert key_id("PeterNeumann", public) == expected


def test_verifier_key_parses_into_name_id_and_public_key():
    name, kid, public_key = parse_verifier_key(PETER_VKEY)
    assert (name, kid.hex()) == ("PeterNeumann", "c74f20a3")
    assert public_key.public_bytes_raw() == base64.b64decode(PETER_VKEY[22:])[1:]


def test_go_signer_key_loads_and_gives_the_go_verifier_key():
    name, private_key = parse_private_key_text(PETER_SKEY + "\n")
    assert name == "PeterNeumann"
    assert verifier_key(name, private_key) == PETER_VKEY
    assert verifier_key(name, load_private_key(PETER_SKEY)) == PETER_VKEY


def test_every_truncation_or_changed_character_of_a_verifier_key_is_refused():
    for i in range(len(PETER_VKEY)):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(ValueError, match=r"verifier key"):
                    parse_verifier_key(PETER_VKEY[i:j])
    for i, ch in enumerate(PETER_VKEY):
        mangled = PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(ValueError, match=r"verifier key"):
            parse_verifier_key(mangled)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        PETER_SKEY.replace("c74f20a3", "c74f20a4"),  # wrong key id
        PETER_SKEY.replace("PeterNeumann", "PaulNeumann"),  # id made for another name
        PETER_SKEY.replace("+AYEK", "+AoEK"),  # not an Ed25519 key
        PETER_SKEY[:-4],  # cut short
        PETER_SKEY.replace("PRIVATE+KEY", "PUBLIC+KEY"),
        PETER_VKEY,  # a public key where the secret one belongs
    ],
)
def test_garbage_signer_keys_are_refused(text):
    with pytest.raises(ValueError, match=r"signer key|key name") as caught:
        load_private_key(text)
    assert "AYEKFALVFGyNhPJEMzD1" not in str(caught.value)  # never echo key material


def test_generated_signer_key_round_trips():
    text = generate_private_key_text("aidhub.example/ledger")
    name, private_key = parse_private_key_text(text)
    assert name == "aidhub.example/ledger"
    assert text.startswith("PRIVATE+KEY+aidhub.example/ledger+")
    vkey = verifier_key(name, private_key)
    assert verify_note(sign_note("hello\n", name, private_key), vkey) == "hello\n"


@pytest.mark.parametrize("name", ["", "two words", "a+b", "tab\there"])
def test_key_names_with_spaces_or_plus_are_refused(name):
    with pytest.raises(ValueError, match="key name"):
        generate_private_key_text(name)


# --------------------------------------------------------------------------- notes


def test_signing_reproduces_the_go_example_note_byte_for_byte():
    name, private_key = parse_private_key_text(PETER_SKEY)
    assert sign_note(GO_TEXT, name, private_key) == GO_NOTE


def test_go_example_note_verifies_and_returns_its_text():
    assert verify_note(GO_NOTE, PETER_VKEY) == GO_TEXT
    assert verify_note(GO_NOTE.encode(), PETER_VKEY) == GO_TEXT


def test_a_note_signed_by_several_keys_verifies_with_each_of_them():
    both = GO_NOTE + ENOCH_SIG
    assert verify_note(both, PETER_VKEY) == GO_TEXT
    assert verify_note(both, ENOCH_VKEY) == GO_TEXT
    with pytest.raises(ValueError, match="no signature by EnochRoot"):
        verify_note(GO_NOTE, ENOCH_VKEY)


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(
        st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), max_size=40),
        min_size=1,
        max_size=5,
    )
)
def test_sign_then_verify_returns_the_body(lines):
    body = "\n".join(lines) + "\n"
    private_key = Ed25519PrivateKey.generate()
    note = sign_note(body, "aidhub.test", private_key)
    assert verify_note(note, verifier_key("aidhub.test", private_key)) == body


@pytest.mark.parametrize(
    "note",
    [
        GO_NOTE.replace("cryptography", "cryptographY"),  # tampered body
        GO_NOTE.replace("then", "than"),
        "Extra line\n" + GO_NOTE,
        GO_NOTE[:-1],  # no final newline
        GO_TEXT + PETER_SIG,  # no blank line before the signatures
        GO_TEXT + "\n",  # no signatures at all
        GO_NOTE.replace("\u2014 ", "-- "),  # not an em dash
        GO_NOTE.replace("x08go/", "x08go!"),  # signature not base64
        GO_NOTE.replace("x08go/ZJkuBS9UG/", "x08go/ZJkuBS9UH/"),  # signature altered
        GO_NOTE + "garbage\n",  # garbage signature line
        GO_NOTE + "\u2014 Someone\n",  # signature line without a signature
        GO_NOTE + "\u2014 Someone AAAA\n",  # signature too short to hold a key id
        GO_NOTE.replace("problem,", "problem,\x07"),  # control character
        GO_TEXT + "\n" + PETER_SIG * 101,  # absurdly many signatures
    ],
)
def test_tampered_or_malformed_notes_are_refused(note):
    with pytest.raises(ValueError, match=r"\S"):
        verify_note(note, PETER_VKEY)


def test_note_signed_by_a_different_key_with_the_same_name_is_refused():
    impostor = sign_note(GO_TEXT, "PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(ValueError, match="no signature by PeterNeumann"):
        verify_note(impostor, PETER_VKEY)


def test_note_signed_by_the_right_key_under_another_name_is_refused():
    _, private_key = parse_private_key_text(PETER_SKEY)
    renamed = sign_note(GO_TEXT, "PaulNeumann", private_key)
    with pytest.raises(ValueError, match="no signature by PeterNeumann"):
        verify_note(renamed, PETER_VKEY)


def test_a_bad_signature_from_the_trusted_key_is_refused_even_next_to_a_good_one():
    # Same name and key id, wrong signature bytes: an attack, not someone else's signature.
    blob = base64.b64decode(PETER_SIG.split()[2])
    forged = "\u2014 PeterNeumann " + base64.b64encode(blob[:4] + bytes(64)).decode() + "\n"
    with pytest.raises(ValueError, match="does not verify"):
        verify_note(GO_NOTE + forged, PETER_VKEY)


def test_signing_refuses_bodies_a_verifier_would_refuse():
    private_key = Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="newline"):
        sign_note("no newline", "aidhub.test", private_key)
    with pytest.raises(ValueError, match="control"):
        sign_note("bell\x07\n", "aidhub.test", private_key)


# --------------------------------------------------------------------------- checkpoints

C2SP_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_the_c2sp_example_checkpoint_parses():
    checkpoint = parse_checkpoint(C2SP_EXAMPLE)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root).decode() == C2SP_EXAMPLE.split("\n")[2]
    assert checkpoint_body(checkpoint.origin, checkpoint.size, checkpoint.root) == C2SP_EXAMPLE


def test_extension_lines_after_the_root_are_ignored():
    assert parse_checkpoint(C2SP_EXAMPLE + "Timestamp: 1700000000\n") == parse_checkpoint(
        C2SP_EXAMPLE
    )


@given(
    origin=st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1),
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_checkpoint_body_round_trips(origin, size, root):
    body = checkpoint_body(origin, size, root)
    assert parse_checkpoint(body) == Checkpoint(origin=origin, size=size, root=root)


def test_signed_checkpoint_round_trips_through_the_verifier():
    private_key = Ed25519PrivateKey.generate()
    body = checkpoint_body("aidhub.test/ledger", 1234, hashlib.sha256(b"root").digest())
    note = sign_note(body, "aidhub.test/ledger", private_key)
    vkey = verifier_key("aidhub.test/ledger", private_key)
    assert parse_checkpoint(verify_note(note, vkey)).size == 1234


ROOT_B64 = C2SP_EXAMPLE.split("\n")[2]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "origin\n",
        "origin\n5\n",
        f"origin\n5\n{ROOT_B64}",  # no final newline
        f"\n5\n{ROOT_B64}\n",  # empty origin
        f"origin\n05\n{ROOT_B64}\n",  # leading zero
        f"origin\n-5\n{ROOT_B64}\n",
        f"origin\n+5\n{ROOT_B64}\n",
        f"origin\n 5\n{ROOT_B64}\n",
        f"origin\n\u0665\n{ROOT_B64}\n",  # Arabic-Indic digit five
        f"origin\nfive\n{ROOT_B64}\n",
        f"origin\n99999999999999999999\n{ROOT_B64}\n",
        "origin\n5\nnot base64!\n",
        f"origin\n5\n{ROOT_B64[:-4]}\n",  # 29 bytes
        f"origin\n5\n{base64.b64encode(bytes(33)).decode()}\n",
        f"origin\n5\n{ROOT_B64.rstrip('=')}\n",  # padding missing
        f"origin\n5\n{ROOT_B64[:-2]}3=\n",  # non-canonical trailing bits
    ],
)
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(ValueError, match="checkpoint"):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, bytes(32)), ("two\nlines", 1, bytes(32)), ("o", -1, bytes(32)), ("o", 1, b"x")],
)
def test_checkpoint_body_refuses_what_it_cannot_represent(origin, size, root):
    with pytest.raises(ValueError, match=r"\S"):
        checkpoint_body(origin, size, root)
