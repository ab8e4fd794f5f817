package codec

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// DataConverter is the default data converter with every payload passed
// through c.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter encodes a failure's message and stack trace as a payload
// (EncodeCommonAttributes) so they are encrypted too: error messages can
// carry an email or a name.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

// Apply sets opts' data and failure converters to encrypt with c. A worker
// built on the client inherits both.
func Apply(opts *client.Options, c *Codec) {
	opts.DataConverter = DataConverter(c)
	opts.FailureConverter = FailureConverter(opts.DataConverter)
}
