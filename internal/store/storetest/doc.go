// Package storetest is the conformance suite of package store: the store
// (internal/store/sql) runs it on each database it speaks, SQLite and
// PostgreSQL, so the domain can count on one behaviour whatever the
// database.
//
// A test calls Run with a function that opens a fresh, empty, migrated
// store and closes it when the test ends:
//
//	func TestConformanceSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "sesame.db"), sqlstore.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite pins what the interface comments leave open, so backends agree
// on it too:
//
//   - records round-trip field for field; times come back in UTC with at
//     least microsecond precision (the fixtures use microseconds, which
//     PostgreSQL's timestamptz keeps, but for a token's expiry, which its
//     key carries in whole seconds: a token keyed the legacy way, by its
//     value's digest alone, keeps microseconds there too); zero times come
//     back zero; empty and nil lists (and byte slices) come back nil;
//   - a lookup that matches nothing, and a change to a row that does not
//     exist, is store.ErrNotFound; deleting what is not there is not an
//     error;
//   - revoking a token twice keeps the first RevokedAt;
//   - Sweep deletes what expired strictly before now, at most limit rows
//     a call, the tokens of a dead grant before the grant;
//   - a delivery due exactly at now is due; a lease that has ended holds
//     nothing.
//
// It owns no rules of the domain: what a revoked grant means for a token is
// tested in packages grant and token.
package storetest
