package jdcloudsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"restoredesk/internal/jdcloud"
)

// ControlHandler returns the simulator's control API, a plain JSON/text API for tests and
// operators (the interop test drives faults through it). It is unauthenticated: serve it on
// its own loopback listener, never in the product's server.
//
//	GET    /stats                       counters (Stats as JSON)
//	POST   /stats/reset                 zero the counters
//	GET    /faults                      current faults: {"op": "key=value,…"}
//	PUT    /faults/{op}                 set op's fault from the text form "key=value,…" (see ParseFault)
//	DELETE /faults/{op}                 remove op's fault ("*" for the catch-all)
//	DELETE /faults                      remove every fault
//	GET    /instances/{region}/{id}     an instance as the simulator holds it, visible yet or not
//	GET    /instances/{region}/{id}/restore-point
//	                                    {"restorePoint": RFC 3339 UTC} of an instance made by
//	                                    createInstanceByTime, as the simulator understood it
//	GET    /instances/{region}?tag=k=v  instances with tag k=v, visible yet or not
//	GET    /instances/{region}?tag-key=k instances carrying tag key k whatever its value, visible
//	                                    yet or not (a chaos run counts duplicates with it)
//	GET    /seed                        SeedOwnership as JSON
func (s *Sim) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]string{}
		for op, f := range s.Faults() {
			out[op] = f.String()
		}
		writeControlJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("PUT /faults/{op}", func(w http.ResponseWriter, r *http.Request) {
		op := r.PathValue("op")
		if err := checkOperation(op); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		f, err := parseFaultBody(strings.TrimSpace(string(body)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFault(op, f)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults/{op}", func(w http.ResponseWriter, r *http.Request) {
		op := r.PathValue("op")
		if err := checkOperation(op); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		s.SetFault(op, Fault{})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /instances/{region}/{id}", func(w http.ResponseWriter, r *http.Request) {
		in, ok := s.Instance(r.PathValue("region"), r.PathValue("id"))
		if !ok {
			http.Error(w, "no such instance", http.StatusNotFound)
			return
		}
		writeControlJSON(w, http.StatusOK, in)
	})
	mux.HandleFunc("GET /instances/{region}/{id}/restore-point", func(w http.ResponseWriter, r *http.Request) {
		at, ok := s.RestorePoint(r.PathValue("region"), r.PathValue("id"))
		if !ok {
			http.Error(w, "no such instance made by createInstanceByTime", http.StatusNotFound)
			return
		}
		writeControlJSON(w, http.StatusOK, map[string]string{"restorePoint": at.UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("GET /instances/{region}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if k := q.Get("tag-key"); k != "" {
			writeControlJSON(w, http.StatusOK, nonNil(s.instancesWithTagKey(r.PathValue("region"), k)))
			return
		}
		k, v, ok := strings.Cut(q.Get("tag"), "=")
		if !ok || k == "" {
			http.Error(w, "want ?tag=key=value or ?tag-key=key", http.StatusBadRequest)
			return
		}
		writeControlJSON(w, http.StatusOK, nonNil(s.InstancesByTag(r.PathValue("region"), k, v)))
	})
	mux.HandleFunc("GET /seed", func(w http.ResponseWriter, r *http.Request) {
		writeControlJSON(w, http.StatusOK, SeedOwnership())
	})
	return mux
}

// instancesWithTagKey returns every instance carrying tag key, whatever its value, visible
// yet or not, in creation order.
func (s *Sim) instancesWithTagKey(region, key string) []jdcloud.Instance {
	return s.instancesWhere(region, func(in *jdcloud.Instance) bool {
		_, ok := in.Tag(key)
		return ok
	})
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
