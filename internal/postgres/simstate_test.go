package postgres_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

func TestSimStateRoundTrip(t *testing.T) {
	t.Parallel()
	s := postgres.NewSimState(postgrestest.Pool(t))
	ctx := t.Context()
	if b, err := s.Load(ctx); err != nil || b != nil {
		t.Fatalf("empty Load = %q, %v; want nil, nil", b, err)
	}
	for _, state := range []string{`{"instances":[1]}`, `{"instances":[1,2]}`} {
		if err := s.Save(ctx, []byte(state)); err != nil {
			t.Fatal(err)
		}
		b, err := s.Load(ctx)
		var got, want any
		json.Unmarshal(b, &got)
		json.Unmarshal([]byte(state), &want)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Load = %s, %v; want %s", b, err, state)
		}
	}
}
