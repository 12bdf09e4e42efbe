package awsfake

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The AWS query protocols (Auto Scaling's awsQuery, EC2's ec2Query): a
// form-encoded POST with Action and Version, answered in XML.

const (
	autoScalingVersion = "2011-01-01"
	ec2Version         = "2016-11-15"
	autoScalingXMLNS   = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	ec2XMLNS           = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// queryRequest is a parsed query-protocol request.
type queryRequest struct {
	values url.Values
}

// get returns a parameter's value and whether it was given.
func (q *queryRequest) get(key string) (string, bool) {
	v, ok := q.values[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// required returns a parameter the operation cannot do without.
func (q *queryRequest) required(key string) (string, *apiError) {
	v, ok := q.get(key)
	if !ok {
		return "", errorf("MissingParameter", "The request must contain the parameter %s.", key)
	}
	return v, nil
}

// list returns prefix.1, prefix.2, … (a query-protocol list) up to the
// first missing index.
func (q *queryRequest) list(prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := q.get(prefix + "." + strconv.Itoa(i))
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// integer returns an integer parameter, if given.
func (q *queryRequest) integer(key string) (int, bool, *apiError) {
	v, ok := q.get(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, errorf("ValidationError", "Value '%s' at '%s' failed to satisfy constraint: must be an integer.", v, key)
	}
	return n, true, nil
}

// requiredInteger returns an integer parameter the operation cannot do
// without; member is its name in the API model, for the error message.
func (q *queryRequest) requiredInteger(key, member string) (int, *apiError) {
	n, ok, err := q.integer(key)
	if err == nil && !ok {
		err = nullError(member)
	}
	return n, err
}

// requiredBoolean is requiredInteger for booleans.
func (q *queryRequest) requiredBoolean(key, member string) (bool, *apiError) {
	b, ok, err := q.boolean(key)
	if err == nil && !ok {
		err = nullError(member)
	}
	return b, err
}

// nullError is the query protocol's error for a missing required member.
func nullError(member string) *apiError {
	return errorf("ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// boolean returns a boolean parameter, if given.
func (q *queryRequest) boolean(key string) (bool, bool, *apiError) {
	v, ok := q.get(key)
	if !ok {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, errorf("ValidationError", "Value '%s' at '%s' failed to satisfy constraint: must be a boolean.", v, key)
	}
	return b, true, nil
}

// unmodelled returns the parameters outside params, sorted. A param
// ending in "." stands for every parameter it prefixes (a list).
func (q *queryRequest) unmodelled(params []string) []string {
	var out []string
	for k := range q.values {
		if k == "Action" || k == "Version" {
			continue
		}
		if !slices.ContainsFunc(params, func(p string) bool {
			return p == k || strings.HasSuffix(p, ".") && strings.HasPrefix(k, p)
		}) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// queryOp is one query-protocol operation: the parameters it models, and
// the handler that returns the XML document to answer with (the Result
// element for Auto Scaling, the whole response for EC2), or an error.
// Requests with other parameters are refused before the handler runs, so
// that the fake never acts on a request it half understood.
type queryOp struct {
	params []string
	run    func(q *queryRequest, requestID string) (any, *apiError)
}

// serveQuery serves Auto Scaling and EC2.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, signed string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "awsfake: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "awsfake: form body: "+err.Error(), http.StatusBadRequest)
		return
	}
	action, version := values.Get("Action"), values.Get("Version")
	var service string
	var op queryOp
	var known bool
	switch version {
	case autoScalingVersion:
		service = "autoscaling"
		op, known = s.autoScalingOps()[action]
	case ec2Version:
		service = "ec2"
		op, known = s.ec2Ops()[action]
	default:
		http.Error(w, fmt.Sprintf("awsfake: unknown API version %q", version), http.StatusBadRequest)
		return
	}
	reqID := s.requestID()
	q := &queryRequest{values: values}
	var result any
	apiErr := checkSigned(signed, service)
	if apiErr == nil && !known {
		apiErr = errorf("InvalidAction", "The action %s is not valid for this web service (or not served by awsfake).", action)
	}
	if apiErr == nil {
		if extra := q.unmodelled(op.params); len(extra) > 0 {
			code := "ValidationError"
			if service == "ec2" {
				code = "UnknownParameter"
			}
			apiErr = errorf(code, "awsfake does not model the parameter(s) %s of %s", strings.Join(extra, ", "), action)
		}
	}
	if apiErr == nil {
		apiErr = s.busy(service, action)
	}
	if apiErr == nil {
		result, apiErr = op.run(q, reqID)
	}
	s.record(service, action, false, apiErr)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	if apiErr != nil {
		w.WriteHeader(apiErr.status)
		if service == "ec2" {
			writeXML(w, ec2ErrorResponse{Code: apiErr.code, Message: apiErr.message, RequestID: reqID})
		} else {
			writeXML(w, queryErrorResponse{XMLNS: autoScalingXMLNS, Type: fault(apiErr.status), Code: apiErr.code,
				Message: apiErr.message, RequestID: reqID})
		}
		return
	}
	if service == "ec2" {
		writeXML(w, result)
		return
	}
	// awsQuery wraps the result: <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…
	fmt.Fprintf(w, `<%sResponse xmlns="%s">`, action, autoScalingXMLNS)
	if result != nil {
		writeXML(w, result)
	}
	fmt.Fprintf(w, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", reqID, action)
}

// fault names who is to blame for an error, as the query protocol says it.
func fault(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// queryErrorResponse is the awsQuery error document.
type queryErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// ec2ErrorResponse is the ec2Query error document.
type ec2ErrorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

// writeXML encodes v; the status is sent by then, so an encoding error
// (a bug in the fake's types) can only cut the body short, which the SDK
// reports as a deserialization error.
func writeXML(w io.Writer, v any) {
	_ = xml.NewEncoder(w).Encode(v)
}

// isoTime formats a timestamp as the query protocols do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// pageToken and parsePageToken make opaque NextTokens from offsets.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func parsePageToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	if err != nil || !strings.HasPrefix(string(b), "offset:") || n < 0 {
		return 0, false
	}
	return n, true
}
