package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// defaultMaxBodyReads bounds the bodies of signed endpoints (POST
// /v1/events, the HubSpot webhook) read at once. Their signatures can be
// checked only once the body is in, so until then a sender is
// unauthenticated; without a bound, many slow senders could hold a MiB of
// memory and a connection each.
const defaultMaxBodyReads = 32

// bodyBusyRetry is Retry-After when every read slot is taken: slots free
// up as soon as a body is in, so a retry a second later usually finds one.
const bodyBusyRetry = "1"

// readSignedBody reads r's body (at most MaxBatchBytes) holding one of the
// server's read slots. When all are taken it answers 503 with Retry-After
// at once, without reading: the server is busy, not the sender wrong, and
// both HubSpot and leadflow's senders retry a 503. Any answer it writes
// ends the request (ok false).
func (s *Server) readSignedBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	tooLarge := fmt.Sprintf("body is over %d bytes", MaxBatchBytes)
	if r.ContentLength > MaxBatchBytes { // no need to read what is declared too big
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return nil, false
	}
	select {
	case s.bodyReads <- struct{}{}:
		defer func() { <-s.bodyReads }()
	default:
		s.bodyBusy.Inc()
		w.Header().Set("Retry-After", bodyBusyRetry)
		writeError(w, http.StatusServiceUnavailable, "too many requests are being read at once; retry shortly")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return nil, false
	}
	return body, true
}
