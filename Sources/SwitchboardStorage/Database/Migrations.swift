import Foundation

/// Versioned schema changes; each runs once, in its own transaction, in order.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]
}

public enum Migrations {
    /// Dialect tokens: {{ID}} an auto-increment primary key, {{BLOB}} binary data.
    static func render(_ sql: String, for dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite:
            return sql.replacingOccurrences(of: "{{ID}}", with: "INTEGER PRIMARY KEY AUTOINCREMENT")
                .replacingOccurrences(of: "{{BLOB}}", with: "BLOB")
        case .postgres:
            return sql.replacingOccurrences(of: "{{ID}}", with: "BIGSERIAL PRIMARY KEY")
                .replacingOccurrences(of: "{{BLOB}}", with: "BYTEA")
        }
    }

    public static let all: [Migration] = [
        Migration(version: 1, name: "platform", statements: [
            """
            CREATE TABLE tenants (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL DEFAULT 'RU',
              created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE users (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, locale TEXT NOT NULL DEFAULT 'ru',
              created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE api_tokens (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
              created_at BIGINT NOT NULL, last_used_at BIGINT)
            """,
            """
            CREATE TABLE crm_credentials (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              crm TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', base_url TEXT NOT NULL,
              auth_kind TEXT NOT NULL, secret {{BLOB}}, status TEXT NOT NULL DEFAULT 'unchecked',
              status_detail TEXT, token_expires_at BIGINT,
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX crm_credentials_tenant ON crm_credentials (tenant_id, crm)",
            """
            CREATE TABLE pbx_connections (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              name TEXT NOT NULL, protocol TEXT NOT NULL, secret {{BLOB}} NOT NULL,
              api_url TEXT, api_key {{BLOB}}, api_flavor TEXT NOT NULL DEFAULT 'legacy',
              routing_deadline_ms BIGINT NOT NULL DEFAULT 1500, region TEXT NOT NULL DEFAULT 'RU',
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE employees (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              pbx_connection_id TEXT NOT NULL REFERENCES pbx_connections(id) ON DELETE CASCADE,
              login TEXT NOT NULL, extension TEXT, name TEXT NOT NULL DEFAULT '', email TEXT,
              direct_number TEXT, has_sip BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL,
              UNIQUE (pbx_connection_id, login))
            """,
            """
            CREATE TABLE integrations (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
              crm TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
              credential_id TEXT REFERENCES crm_credentials(id) ON DELETE SET NULL,
              pbx_connection_id TEXT REFERENCES pbx_connections(id) ON DELETE SET NULL,
              active BIGINT NOT NULL DEFAULT 0, settings TEXT NOT NULL DEFAULT '{}',
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE mappings (
              integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
              tenant_id TEXT NOT NULL, crm_user_id TEXT NOT NULL, crm_user_name TEXT NOT NULL DEFAULT '',
              employee_id TEXT NOT NULL REFERENCES employees(id) ON DELETE CASCADE,
              use_for_routing BIGINT NOT NULL DEFAULT 1,
              PRIMARY KEY (integration_id, crm_user_id))
            """,
            """
            CREATE TABLE calls (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, pbx_connection_id TEXT NOT NULL,
              direction TEXT NOT NULL, client_number TEXT, client_raw TEXT, line_number TEXT,
              state TEXT NOT NULL, result TEXT NOT NULL, started_at BIGINT NOT NULL,
              answered_at BIGINT, ended_at BIGINT, wait_sec BIGINT, talk_sec BIGINT,
              first_talker TEXT, last_talker TEXT, recording_url TEXT, finalized BIGINT NOT NULL DEFAULT 0,
              model TEXT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX calls_tenant_started ON calls (tenant_id, started_at)",
            "CREATE INDEX calls_tenant_client ON calls (tenant_id, client_number)",
            """
            CREATE TABLE call_aliases (
              pbx_connection_id TEXT NOT NULL, external_id TEXT NOT NULL, call_id TEXT NOT NULL,
              PRIMARY KEY (pbx_connection_id, external_id))
            """,
            """
            CREATE TABLE call_events (
              id {{ID}}, tenant_id TEXT NOT NULL, pbx_connection_id TEXT NOT NULL, call_id TEXT NOT NULL,
              event_key TEXT NOT NULL, type TEXT NOT NULL, occurred_at BIGINT NOT NULL,
              received_at BIGINT NOT NULL, raw TEXT NOT NULL,
              UNIQUE (pbx_connection_id, event_key))
            """,
            "CREATE INDEX call_events_call ON call_events (call_id)",
            """
            CREATE TABLE jobs (
              id {{ID}}, tenant_id TEXT NOT NULL, partition_key TEXT NOT NULL, kind TEXT NOT NULL,
              payload TEXT NOT NULL, state TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
              max_attempts BIGINT NOT NULL, run_at BIGINT NOT NULL, lease_owner TEXT,
              lease_expires_at BIGINT, last_error TEXT, call_id TEXT, dedupe_key TEXT UNIQUE,
              created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, finished_at BIGINT)
            """,
            "CREATE INDEX jobs_partition_head ON jobs (partition_key, state, id)",
            "CREATE INDEX jobs_due ON jobs (state, run_at)",
            "CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state)",
            "CREATE INDEX jobs_call ON jobs (call_id)",
            """
            CREATE TABLE job_attempts (
              id {{ID}}, job_id BIGINT NOT NULL, tenant_id TEXT NOT NULL, attempt BIGINT NOT NULL,
              worker TEXT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL,
              outcome TEXT NOT NULL, detail TEXT, exchanges TEXT NOT NULL DEFAULT '[]')
            """,
            "CREATE INDEX job_attempts_job ON job_attempts (job_id)",
            """
            CREATE TABLE crm_entities (
              integration_id TEXT NOT NULL, scope TEXT NOT NULL, kind TEXT NOT NULL, crm_id TEXT NOT NULL,
              created_at BIGINT NOT NULL, PRIMARY KEY (integration_id, scope, kind))
            """,
        ]),
        Migration(version: 2, name: "credential refresh lease", statements: [
            // One worker at a time refreshes an OAuth token: some CRMs' refresh tokens are single-use.
            "ALTER TABLE crm_credentials ADD COLUMN refresh_lock_until BIGINT",
        ]),
        Migration(version: 3, name: "active jobs index", statements: [
            // Claiming looks only at queued and running jobs; done ones pile up and must not slow it down.
            "CREATE INDEX jobs_active ON jobs (partition_key, id) WHERE state IN ('queued', 'running')",
        ]),
        Migration(version: 4, name: "cabinet sessions", statements: [
            """
            CREATE TABLE sessions (
              id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              tenant_id TEXT NOT NULL, csrf TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
            """,
        ]),
        Migration(version: 5, name: "sign-in failures", statements: [
            // Shared by every instance, so the sign-in limit holds however many serve the cabinet.
            "CREATE TABLE signin_failures (key_hash TEXT NOT NULL, at BIGINT NOT NULL)",
            "CREATE INDEX signin_failures_key ON signin_failures (key_hash, at)",
        ]),
        Migration(version: 6, name: "queue outage streaks and instance leases", statements: [
            // Consecutive failures for the remote's outage: the backoff's exponent. A rate limit does not raise it.
            "ALTER TABLE jobs ADD COLUMN failures BIGINT NOT NULL DEFAULT 0",
            // A worker renews all its leases in one statement.
            "CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE state = 'running'",
            // A CRM account's rate limit, shared by every integration and instance: the next free send time.
            "CREATE TABLE rate_limits (key TEXT PRIMARY KEY, next_at BIGINT NOT NULL)",
        ]),
        Migration(version: 7, name: "sites and text communications", statements: [
            // A tenant's sites: the public key in their script tags and API paths, the origins browsers may post from.
            """
            CREATE TABLE sites (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE, name TEXT NOT NULL,
              site_key TEXT NOT NULL UNIQUE, origins TEXT NOT NULL DEFAULT '[]', request_types TEXT NOT NULL DEFAULT '[]',
              created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX sites_tenant ON sites (tenant_id)",
            // Requests and chats (one row per communication; a chat's messages in its transcript), neutral to every CRM.
            """
            CREATE TABLE text_events (
              id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, site_id TEXT NOT NULL, site TEXT NOT NULL, kind TEXT NOT NULL,
              external_id TEXT, request_type TEXT, channel TEXT, name TEXT, phone TEXT, email TEXT, message TEXT,
              utm TEXT NOT NULL DEFAULT '{}', page TEXT, tags TEXT NOT NULL DEFAULT '[]', transcript TEXT NOT NULL DEFAULT '[]',
              state TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, finished_at BIGINT)
            """,
            // The sender's own id makes a repeated submission one communication.
            "CREATE UNIQUE INDEX text_events_external ON text_events (site_id, external_id)",
            "CREATE INDEX text_events_tenant ON text_events (tenant_id, created_at)",
        ]),
        Migration(version: 8, name: "raw data: deals", statements: [
            // CORE-16: the CRMs' deals (leads, deals, customer orders, whatever each CRM calls them), one row per
            // deal of an integration; amounts in hundredths; the title in lower case for search (SQLite's LOWER knows ASCII only).
            """
            CREATE TABLE deals (
              tenant_id TEXT NOT NULL, integration_id TEXT NOT NULL, crm TEXT NOT NULL, deal_id TEXT NOT NULL,
              title TEXT NOT NULL DEFAULT '', title_search TEXT NOT NULL DEFAULT '', amount_minor BIGINT NOT NULL DEFAULT 0, currency TEXT,
              pipeline_id TEXT, pipeline_name TEXT, stage_id TEXT, stage_name TEXT, status TEXT NOT NULL,
              responsible_id TEXT, responsible_name TEXT, contact_ids TEXT NOT NULL DEFAULT '[]',
              phones TEXT NOT NULL DEFAULT '[]', products TEXT NOT NULL DEFAULT '[]', store TEXT,
              created_at BIGINT, closed_at BIGINT, updated_at BIGINT, imported_at BIGINT NOT NULL, raw TEXT NOT NULL,
              PRIMARY KEY (integration_id, deal_id))
            """,
            "CREATE INDEX deals_tenant_created ON deals (tenant_id, created_at)",
            // CORE-17's join: a deal's contacts' numbers (last 10 digits), looked up by the calls' numbers.
            """
            CREATE TABLE deal_phones (
              tenant_id TEXT NOT NULL, integration_id TEXT NOT NULL, deal_id TEXT NOT NULL, phone TEXT NOT NULL,
              PRIMARY KEY (integration_id, deal_id, phone))
            """,
            "CREATE INDEX deal_phones_tenant_phone ON deal_phones (tenant_id, phone)",
            """
            CREATE TABLE deal_stage_history (
              id {{ID}}, tenant_id TEXT NOT NULL, integration_id TEXT NOT NULL, deal_id TEXT NOT NULL,
              stage_id TEXT, stage_name TEXT, status TEXT NOT NULL, at BIGINT NOT NULL)
            """,
            "CREATE INDEX deal_stage_history_deal ON deal_stage_history (integration_id, deal_id, id)",
        ]),
        Migration(version: 9, name: "analytics: call-back lookup", statements: [
            // The call dashboard's "missed, not called back" looks for an answered call with the same number within a day
            // after each missed one: a seek on (tenant, number, time) rather than every call of the tenant that day
            // (switchboard bench analytics: seconds on a million calls before, milliseconds after). It serves the
            // lookups by number the old (tenant_id, client_number) index did.
            "CREATE INDEX calls_tenant_client_started ON calls (tenant_id, client_number, started_at)",
            "DROP INDEX calls_tenant_client",
        ]),
        Migration(version: 10, name: "failure reasons in the tenant's languages", statements: [
            // A failure's reason as a phrase (code, English, Russian, JSON) beside its English; NULL for older rows.
            "ALTER TABLE jobs ADD COLUMN last_error_phrase TEXT",
            "ALTER TABLE job_attempts ADD COLUMN detail_phrase TEXT",
        ]),
        Migration(version: 11, name: "queue: one partition index", statements: [
            // Every partition query names `state IN ('queued', 'running')`, which the partial `jobs_active` serves
            // (also MIN(partition_key)); this one only cost an entry per job and a move on every change of state.
            "DROP INDEX jobs_partition_head",
        ]),
    ]

    /// Applies every migration not applied yet; safe to call from several instances at once.
    public static func run(on database: any Database) async throws -> [Int] {
        let dialect = database.dialect
        try await database.transaction { db in
            if dialect == .postgres { try await db.execute("SELECT pg_advisory_xact_lock(7207001)") }
            try await db.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                  version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """)
        }
        var applied: [Int] = []
        for migration in all {
            let done: Bool = try await database.transaction { db in
                if dialect == .postgres { try await db.execute("SELECT pg_advisory_xact_lock(7207001)") }
                if try await db.one("SELECT version FROM schema_migrations WHERE version = ?",
                                    [.int(Int64(migration.version))]) != nil {
                    return false
                }
                for statement in migration.statements {
                    try await db.execute(render(statement, for: dialect))
                }
                try await db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                     [.int(Int64(migration.version)), .text(migration.name), .int(Date().millis)])
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }
}
