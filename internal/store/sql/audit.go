package sql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const auditCols = `id, at, actor_kind, actor_id, action, target_kind, target_id, account_id, address, detail`

const qAddAuditEntry = `INSERT INTO audit_log (at, actor_kind, actor_id, action, target_kind, target_id, account_id, address, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// auditSweep deletes the oldest entries, on the index by time, as the
// other sweeps do.
var auditSweep = func() map[dialect]string {
	st := sweepStep{what: "audit log", table: "audit_log", key: "id", where: "at < $1"}
	return map[dialect]string{sqliteDialect: st.query(sqliteDialect), postgresDialect: st.query(postgresDialect)}
}()

// auditQuery is the SELECT for f and its arguments. Each filter that is
// set adds its condition, so a filter reads the index of its own column
// (actor, target, account, action) in ID order, and no condition is
// written as `$n = ” OR ...`, which would keep a prepared statement's
// generic plan off every index. At most 2^7 texts, each prepared once.
func auditQuery(f store.AuditFilter) (string, []any) {
	before := f.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + auditCols + ` FROM audit_log WHERE id < $1`)
	args := []any{before}
	add := func(cond string, v any) {
		args = append(args, v)
		b.WriteString(" AND " + cond + " $" + strconv.Itoa(len(args)))
	}
	for _, c := range []struct{ col, v string }{
		{"actor_kind", f.ActorKind}, {"actor_id", f.ActorID}, {"target_kind", f.TargetKind},
		{"target_id", f.TargetID}, {"account_id", f.AccountID}, {"action", f.Action},
	} {
		if c.v != "" {
			add(c.col+" =", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("at >=", timeArg(f.Since))
	}
	args = append(args, limitArg(f.Limit))
	b.WriteString(" ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args)))
	return b.String(), args
}

func scanAuditEntry(row scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	err := row.Scan(&e.ID, timeDest{&e.At}, &e.ActorKind, &e.ActorID, &e.Action, &e.TargetKind, &e.TargetID,
		&e.AccountID, &e.Address, &e.Detail)
	return e, err
}

// AuditEntries lists the entries f selects, newest first.
//
// As with events, the ID comes from an identity column: on PostgreSQL a
// transaction that commits late can put an entry below a cursor a reader
// has passed. The log is read by people, newest first, so that rare gap
// is accepted rather than serialising every writer on one lock.
func (r reader) AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("list audit entries: limit %d", f.Limit)
	}
	q, args := auditQuery(f)
	list, err := queryList(ctx, r.q, scanAuditEntry, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", dbErr(err))
	}
	return list, nil
}

// AddAuditEntry appends e to the audit log.
func (t *tx) AddAuditEntry(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() || e.ActorKind == "" || e.Action == "" {
		return fmt.Errorf("add audit entry %q: time, actor kind and action are required", e.Action)
	}
	if _, err := t.q.exec(ctx, qAddAuditEntry, timeArg(e.At), e.ActorKind, e.ActorID, e.Action, e.TargetKind, e.TargetID,
		e.AccountID, e.Address, e.Detail); err != nil {
		return fmt.Errorf("add audit entry %s: %w", e.Action, dbErr(err))
	}
	return nil
}

// SweepAuditLog deletes at most limit entries older than before, oldest
// first.
func (t *tx) SweepAuditLog(ctx context.Context, before time.Time, limit int) (int64, error) {
	if before.IsZero() {
		return 0, errors.New("sweep audit log: zero time")
	}
	if limit <= 0 {
		return 0, fmt.Errorf("sweep audit log: limit %d", limit)
	}
	n, err := exec(ctx, t.q, auditSweep[t.d], timeArg(before), int64(limit))
	if err != nil {
		return 0, fmt.Errorf("sweep audit log: %w", err)
	}
	return n, nil
}
