package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
)

// TargetDecrypt is the X-Amz-Target of KMS Decrypt (AWS JSON 1.1, like SSM and Secrets Manager).
const TargetDecrypt = "TrentService.Decrypt"

// kmsMagic starts every ciphertext the fake makes; anything else is InvalidCiphertextException.
var kmsMagic = []byte("awsfake-kms\x00")

// kmsBlob is what a fake ciphertext carries. It is not encryption, only opaque to the code
// under test, which must treat ciphertexts as blobs.
type kmsBlob struct {
	KeyID     string            `json:"k"`
	Context   map[string]string `json:"c,omitempty"`
	Plaintext []byte            `json:"p"`
}

// Encrypt returns a ciphertext the fake's Decrypt turns back into plaintext under key keyID and
// the encryption context ctx (nil for none), as KMS Encrypt would.
func (s *Server) Encrypt(keyID string, plaintext []byte, ctx map[string]string) []byte {
	b, _ := json.Marshal(kmsBlob{KeyID: keyID, Context: ctx, Plaintext: plaintext})
	return append(slices.Clone(kmsMagic), b...)
}

// DisableKey makes Decrypt under keyID answer DisabledException.
func (s *Server) DisableKey(keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disabled == nil {
		s.disabled = map[string]bool{}
	}
	s.disabled[keyID] = true
}

// decrypt answers like KMS: the ciphertext names its key; the encryption context must match
// exactly.
func (s *Server) decrypt(w http.ResponseWriter, body map[string]any) {
	b64, _ := body["CiphertextBlob"].(string)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(raw, kmsMagic) {
		writeErr(w, http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	var blob kmsBlob
	if err := json.Unmarshal(raw[len(kmsMagic):], &blob); err != nil {
		writeErr(w, http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	got := map[string]string{}
	if c, ok := body["EncryptionContext"].(map[string]any); ok {
		for k, v := range c {
			got[k], _ = v.(string)
		}
	}
	if !maps.Equal(got, blob.Context) && (len(got) > 0 || len(blob.Context) > 0) {
		writeErr(w, http.StatusBadRequest, "InvalidCiphertextException", "")
		return
	}
	if s.disabled[blob.KeyID] {
		writeErr(w, http.StatusBadRequest, "DisabledException", "arn:aws:kms:eu-west-1:123456789012:key/"+blob.KeyID+" is disabled.")
		return
	}
	writeJSON(w, map[string]any{
		"KeyId":               "arn:aws:kms:eu-west-1:123456789012:key/" + blob.KeyID,
		"Plaintext":           blob.Plaintext, // base64, as the blob type wants
		"EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
	})
}
