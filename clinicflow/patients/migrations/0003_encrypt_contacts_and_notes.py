"""CR-03: the e-mail, phone numbers, both notes and the consent evidence become AES-GCM ciphertext
(``core.crypto``); the e-mail and phones get HMAC blind indexes, which take over the lookup indexes and
the phone's unique constraint. Existing rows are encrypted in batches with raw SQL (the historical
models would try to decrypt the plaintext they read); the reverse step decrypts them again."""

from __future__ import annotations

from typing import Any

import django.core.validators
from django.db import migrations, models

import clinicflow.core.fields
from clinicflow.core import crypto

BATCH = 2000
# table -> (encrypted columns, {index column: (source column, purpose)})
TABLES: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, str]]]] = {
    "patients_patient": (("email", "notes", "clinical_notes"), {"email_index": ("email", crypto.EMAIL)}),
    "patients_patientphone": (("e164",), {"e164_index": ("e164", crypto.PHONE)}),
    "patients_consentevent": (("evidence",), {}),
}


def _is_sealed(value: str, context: str) -> bool:
    if crypto.key_id(value) is None:
        return False
    try:
        crypto.decrypt(value, context=context)
    except crypto.DecryptionError:
        return False
    return True


def _rows(connection: Any, table: str, columns: list[str]) -> Any:
    q = connection.ops.quote_name
    select = ", ".join(q(c) for c in ["id", "organization_id", *columns])
    last = None
    while True:
        where = f"WHERE {q('id')} > %s " if last is not None else ""
        sql = f"SELECT {select} FROM {q(table)} {where}ORDER BY {q('id')} LIMIT {BATCH}"  # noqa: S608 - fixed names
        with connection.cursor() as cursor:
            cursor.execute(sql, [last] if last is not None else [])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _update(connection: Any, table: str, columns: list[str], values: list[list[Any]]) -> None:
    if not values:
        return
    q = connection.ops.quote_name
    sets = ", ".join(f"{q(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {q(table)} SET {sets} WHERE {q('id')} = %s", values)  # noqa: S608 - fixed names


def encrypt_rows(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    for table, (encrypted, indexes) in TABLES.items():
        columns = [*encrypted, *indexes]
        for rows in _rows(connection, table, list(encrypted)):
            updates = []
            for row_id, org_id, *plain in rows:
                values = dict(zip(encrypted, plain, strict=True))
                if all(not v or _is_sealed(v, f"{table}.{c}") for c, v in values.items()):
                    continue  # already encrypted (a re-run)
                out = [
                    v if not v or _is_sealed(v, f"{table}.{c}") else crypto.encrypt(v, context=f"{table}.{c}")
                    for c, v in values.items()
                ]
                out += [
                    crypto.blind_index(purpose, org_id, values[source] or "")
                    for source, purpose in indexes.values()
                ]
                updates.append([*out, row_id])
            _update(connection, table, columns, updates)


def decrypt_rows(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    for table, (encrypted, _) in TABLES.items():
        for rows in _rows(connection, table, list(encrypted)):
            updates = [
                [
                    crypto.decrypt(v, context=f"{table}.{c}") if v else v
                    for c, v in zip(encrypted, plain, strict=True)
                ]
                + [row_id]
                for row_id, _org, *plain in rows
            ]
            _update(connection, table, list(encrypted), updates)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_no_single_column_org_index"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="patientphone",
            options={"ordering": ["-is_primary", "id"]},
        ),
        migrations.RemoveConstraint(
            model_name="patientphone",
            name="phone_org_patient_e164_uniq",
        ),
        migrations.RemoveIndex(
            model_name="patient",
            name="patient_org_email_idx",
        ),
        migrations.RemoveIndex(
            model_name="patientphone",
            name="phone_org_e164_idx",
        ),
        migrations.AddField(
            model_name="patient",
            name="email_index",
            field=clinicflow.core.fields.BlindIndexField(purpose="email", source="email"),
        ),
        migrations.AddField(
            model_name="patientphone",
            name="e164_index",
            field=clinicflow.core.fields.BlindIndexField(purpose="phone", source="e164"),
        ),
        migrations.AlterField(
            model_name="consentevent",
            name="evidence",
            field=clinicflow.core.fields.EncryptedTextField(
                blank=True, max_length=300, multiline=False, verbose_name="evidence"
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="clinical_notes",
            field=clinicflow.core.fields.EncryptedTextField(blank=True, verbose_name="clinical notes"),
        ),
        migrations.AlterField(
            model_name="patient",
            name="email",
            field=clinicflow.core.fields.EncryptedTextField(
                blank=True,
                max_length=254,
                multiline=False,
                validators=[django.core.validators.EmailValidator()],
                verbose_name="e-mail",
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="notes",
            field=clinicflow.core.fields.EncryptedTextField(blank=True, verbose_name="administrative notes"),
        ),
        migrations.AlterField(
            model_name="patientphone",
            name="e164",
            field=clinicflow.core.fields.EncryptedTextField(
                max_length=20, multiline=False, verbose_name="phone"
            ),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["organization", "email_index"], name="patient_org_email_bidx"),
        ),
        migrations.AddIndex(
            model_name="patientphone",
            index=models.Index(fields=["organization", "e164_index"], name="phone_org_e164_bidx"),
        ),
        migrations.AddConstraint(
            model_name="patientphone",
            constraint=models.UniqueConstraint(
                fields=("organization", "patient", "e164_index"), name="phone_org_patient_e164_bidx_uniq"
            ),
        ),
    ]
