// Package codec encrypts Temporal payloads with AES-256-GCM, the way
// Temporal's data-converter docs describe: a converter.PayloadCodec around
// the default data converter, the key ID in the payload's metadata, and a
// Codec Server (HTTP) that lets the Web UI and CLI decode for an operator.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload. The original payload (metadata and
// data) is marshalled and sealed whole, so its encoding (json/plain, …)
// stays secret too.
const (
	MetadataEncoding  = "encoding"
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Codec is a converter.PayloadCodec. Encode uses the first key; Decode uses
// whichever key the payload names, and passes payloads that were never
// encrypted through unchanged (histories written before encryption was on).
type Codec struct {
	encryptID string
	order     []string // key IDs as configured, for error messages
	aeads     map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds a Codec; keys[0] encrypts.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no keys")
	}
	c := &Codec{encryptID: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key ID %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q: %d bytes, AES-256 needs %d", k.ID, len(k.Secret), KeySize)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.order = append(c.order, k.ID)
	}
	return c, nil
}

// EncryptKeyID is the ID of the key new payloads are sealed with.
func (c *Codec) EncryptKeyID() string { return c.encryptID }

// Encode seals each payload under the first key with a fresh random nonce.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.encryptID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(c.encryptID),
			},
			// The key ID is bound as additional data: a payload relabelled
			// with another key's ID fails to open instead of being tried.
			Data: aead.Seal(nonce, nonce, plain, []byte(c.encryptID)),
		}
	}
	return out, nil
}

// Decode opens encrypted payloads and passes the others through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("codec: payload %d is encrypted with key %q, which is not among the configured keys (%s)", i, id, strings.Join(c.order, ", "))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("codec: payload %d (key %q): ciphertext too short", i, id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("codec: payload %d (key %q): cannot decrypt (wrong key bytes for this ID, or tampered): %w", i, id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return payloads, fmt.Errorf("codec: payload %d (key %q): decrypted bytes are no payload: %w", i, id, err)
		}
		out[i] = &orig
	}
	return out, nil
}
