"""The PostgreSQL roles of a deployment (SECURITY.md LG-02 against a database insider), as SQL.

- the **owner** role owns the schema, every table, the append-only trigger function and so the
  triggers; migrations run as it (``MIGRATE_DATABASE_URL``);
- the **app** role (``DATABASE_URL`` of the web processes and workers) has SELECT, INSERT, UPDATE
  and DELETE on the tables, but only SELECT and INSERT on the audit log's tables. It owns nothing,
  so it can neither disable nor drop the append-only triggers, and it has no TRUNCATE anywhere.

``clinicflow dbroles`` prints this SQL; run it with ``psql -v ON_ERROR_STOP=1 -d <database>`` as a
superuser (first set-up) and again after each ``migrate`` (the grants are idempotent).
"""

from __future__ import annotations

import re

from clinicflow.core.models import AuditEvent, AuditLink

# rows of these tables are written once and never changed or removed, whoever connects
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table, AuditLink._meta.db_table)
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _ident(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain lower-case PostgreSQL name")
    return f'"{name}"'


def roles_sql(*, owner: str, app: str, database: str, create_roles: bool = True) -> str:
    """SQL that (optionally) creates the two roles, hands the database's objects to ``owner`` and
    grants ``app`` its rights. Passwords are not set here: use ``\\password <role>`` in psql."""
    o, a, db = _ident(owner), _ident(app), _ident(database)
    parts = []
    if create_roles:
        parts.append(f"""-- 1. the roles (LOGIN; set their passwords with \\password)
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{owner}') THEN CREATE ROLE {o} LOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{app}') THEN CREATE ROLE {a} LOGIN; END IF;
END $$;
ALTER ROLE {a} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;""")  # nosec B608 # noqa: S608 - names checked by _ident
    parts.append(f"""-- 2. the owner owns the database, the schema and every object in it (so the triggers)
ALTER DATABASE {db} OWNER TO {o};
ALTER SCHEMA public OWNER TO {o};
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
                AND pg_get_userbyid(c.relowner) <> '{owner}' LOOP
        EXECUTE format('ALTER %s %s OWNER TO {o}',
            CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> '{owner}'
                AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO {o}', r.name);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{owner}' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO {o}', r.name);
    END LOOP;
END $$;""")  # nosec B608 # noqa: S608 - names checked by _ident
    audit = ", ".join(APPEND_ONLY_TABLES)
    parts.append(f"""-- 3. the application: ordinary DML, no DDL, no TRUNCATE; the audit log only grows
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE {db} FROM {a};
GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {a};
GRANT USAGE ON SCHEMA public TO {a};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {a};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {a};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a};
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM {a};
REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {a};
-- tables that later migrations create (as the owner) get the same DML grants; re-run this script
-- after a migration that adds an append-only table
ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a};
ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {a};""")  # nosec B608 # noqa: S608 - names checked by _ident
    return "\n\n".join(parts) + "\n"
