package temporalx

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/leadflow/leadflow/internal/lead"
)

// indexedTypes maps the type names of lead.SearchAttributeTypes (the names
// the Temporal CLI uses) to the API enum.
var indexedTypes = map[string]enumspb.IndexedValueType{
	"Text":        enumspb.INDEXED_VALUE_TYPE_TEXT,
	"Keyword":     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"Int":         enumspb.INDEXED_VALUE_TYPE_INT,
	"Double":      enumspb.INDEXED_VALUE_TYPE_DOUBLE,
	"Bool":        enumspb.INDEXED_VALUE_TYPE_BOOL,
	"Datetime":    enumspb.INDEXED_VALUE_TYPE_DATETIME,
	"KeywordList": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// IndexedValueType maps a CLI type name ("Keyword", "Int", "Datetime",
// "Bool", …) to the API enum.
func IndexedValueType(name string) (enumspb.IndexedValueType, error) {
	t, ok := indexedTypes[name]
	if !ok {
		return enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED, fmt.Errorf("unknown search attribute type %q", name)
	}
	return t, nil
}

// typeName is the inverse of IndexedValueType, for messages.
func typeName(t enumspb.IndexedValueType) string {
	for n, v := range indexedTypes {
		if v == t {
			return n
		}
	}
	return t.String()
}

// EnsureSearchAttributes registers on namespace every search attribute of
// lead.SearchAttributeTypes that is missing. Ones already present with the
// right type are accepted, so it is safe to run at every worker start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	return ensureSearchAttributes(ctx, c.OperatorService(), namespace, lead.SearchAttributeTypes)
}

// saOperator is the part of the operator service this file uses (a fake in
// unit tests).
type saOperator interface {
	ListSearchAttributes(ctx context.Context, in *operatorservice.ListSearchAttributesRequest, opts ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error)
	AddSearchAttributes(ctx context.Context, in *operatorservice.AddSearchAttributesRequest, opts ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error)
}

func ensureSearchAttributes(ctx context.Context, op saOperator, namespace string, want []struct{ Name, Type string }) error {
	missing, err := missingSearchAttributes(ctx, op, namespace, want)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	req := &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}
	if _, err := op.AddSearchAttributes(ctx, req); err != nil {
		var exists *serviceerror.AlreadyExists
		if !errors.As(err, &exists) { // another worker won the race: check below
			return registrationError(namespace, want, sortedKeys(missing), err)
		}
	}
	// Visibility stores may apply the change a moment later: poll until every
	// attribute is listed (or ctx ends), so callers can rely on them at once.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		missing, err = missingSearchAttributes(ctx, op, namespace, want)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes %s added on namespace %q but not listed yet: %w", strings.Join(sortedKeys(missing), ", "), namespace, ctx.Err())
		case <-deadline:
			return fmt.Errorf("search attributes %s added on namespace %q but still not listed after 30s", strings.Join(sortedKeys(missing), ", "), namespace)
		case <-tick.C:
		}
	}
}

// missingSearchAttributes lists the namespace's attributes and returns those
// of want that are absent. One present with another type is an error: it
// cannot be fixed by adding, and queries on it would silently misbehave.
func missingSearchAttributes(ctx context.Context, op saOperator, namespace string, want []struct{ Name, Type string }) (map[string]enumspb.IndexedValueType, error) {
	resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, registrationError(namespace, want, nil, fmt.Errorf("list search attributes: %w", err))
	}
	missing := map[string]enumspb.IndexedValueType{}
	var errs []error
	for _, sa := range want {
		wantType, err := IndexedValueType(sa.Type)
		if err != nil {
			errs = append(errs, fmt.Errorf("search attribute %s: %w", sa.Name, err))
			continue
		}
		got, ok := resp.GetCustomAttributes()[sa.Name]
		if !ok {
			got, ok = resp.GetSystemAttributes()[sa.Name]
		}
		switch {
		case !ok:
			missing[sa.Name] = wantType
		case got != wantType:
			errs = append(errs, fmt.Errorf("search attribute %s exists on namespace %q as %s, leadflow needs %s: "+
				"remove it or use another namespace (a search attribute's type cannot be changed)", sa.Name, namespace, typeName(got), sa.Type))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return missing, nil
}

// registrationError explains how to register the attributes by hand when
// the server will not let leadflow do it (Temporal Cloud without an admin
// key, a restricted operator API, …).
func registrationError(namespace string, want []struct{ Name, Type string }, names []string, err error) error {
	var pairs, cli []string
	for _, sa := range want {
		pairs = append(pairs, sa.Name+"="+sa.Type)
		cli = append(cli, "--search-attribute "+sa.Name+"="+sa.Type)
	}
	what := "search attributes"
	if len(names) > 0 {
		what = "search attributes " + strings.Join(names, ", ")
	}
	hint := ""
	switch serviceerror.ToStatus(err).Code() {
	case codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
		hint = " (the server refused the operator API)"
	}
	return fmt.Errorf("register %s on namespace %q%s: %w; register them yourself and restart: "+
		"on Temporal Cloud with `tcld namespace search-attributes add --namespace %s %s` or in the Cloud UI (Namespace → Search Attributes), "+
		"self-hosted with `temporal operator search-attribute create --namespace %s` per attribute; needed: %s",
		what, namespace, hint, err, namespace, strings.Join(cli, " "), namespace, strings.Join(pairs, " "))
}

func sortedKeys(m map[string]enumspb.IndexedValueType) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
