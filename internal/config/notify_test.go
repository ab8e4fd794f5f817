package config

import (
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	got, err := ParseSMTPURL("smtp://u%40x:p%3Ass@mail.example.com:2525")
	if err != nil || got != (SMTP{Host: "mail.example.com", Port: 2525, User: "u@x", Pass: "p:ss"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := ParseSMTPURL("smtp://127.0.0.1"); err != nil || got.Port != 587 {
		t.Fatalf("default port: %+v, %v", got, err)
	}
	for _, bad := range []string{"http://h:25", "smtp://:25", "smtp://user:hunter2@h:99999", "smtp://h:25/x", "::"} {
		_, err := ParseSMTPURL(bad)
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error echoes the password: %v", bad, err)
		}
	}
}
