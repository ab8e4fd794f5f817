package temporalx

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// zapLogger adapts zap to the Temporal SDK's key-value logger, so SDK and
// workflow logs land in the same structured stream as the rest of leadflow.
type zapLogger struct{ z *zap.Logger }

var (
	_ log.Logger          = (*zapLogger)(nil)
	_ log.WithLogger      = (*zapLogger)(nil)
	_ log.WithSkipCallers = (*zapLogger)(nil)
)

// NewLogger returns a Temporal SDK logger writing to z (a no-op logger when z
// is nil). It also implements log.WithLogger and log.WithSkipCallers.
func NewLogger(z *zap.Logger) log.Logger {
	if z == nil {
		z = zap.NewNop()
	}
	// One frame for the adapter method itself, so the caller shown is the
	// SDK's (or workflow's) call site, not this file.
	return &zapLogger{z: z.WithOptions(zap.AddCallerSkip(1))}
}

func (l *zapLogger) Debug(msg string, keyvals ...any) { l.z.Debug(msg, fields(keyvals)...) }
func (l *zapLogger) Info(msg string, keyvals ...any)  { l.z.Info(msg, fields(keyvals)...) }
func (l *zapLogger) Warn(msg string, keyvals ...any)  { l.z.Warn(msg, fields(keyvals)...) }
func (l *zapLogger) Error(msg string, keyvals ...any) { l.z.Error(msg, fields(keyvals)...) }

// With returns a child logger that adds keyvals to every entry.
func (l *zapLogger) With(keyvals ...any) log.Logger {
	return &zapLogger{z: l.z.With(fields(keyvals)...)}
}

// WithCallerSkip returns a child logger skipping skip more stack frames.
func (l *zapLogger) WithCallerSkip(skip int) log.Logger {
	return &zapLogger{z: l.z.WithOptions(zap.AddCallerSkip(skip))}
}

// badKey names a value that came without a key (an odd keyvals list), the
// same convention as log/slog, so nothing the caller passed is dropped.
const badKey = "!BADKEY"

func fields(keyvals []any) []zap.Field {
	if len(keyvals) == 0 {
		return nil
	}
	fs := make([]zap.Field, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			fs = append(fs, zap.Any(badKey, keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		// zap.Any turns an error into a proper error field and a
		// time/duration into typed fields.
		fs = append(fs, zap.Any(key, keyvals[i+1]))
	}
	return fs
}
