package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/leadflow/leadflow/internal/config"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

// notifyCheckTimeout bounds the start check of each channel.
const notifyCheckTimeout = 10 * time.Second

// checker is a channel that can say at start whether it works.
type checker interface {
	Check(ctx context.Context) error
}

// notifier builds the dispatcher of the configured channels; nil when no
// channel is configured (the CRM's record is then all a notification is).
// The configuration was validated by config.ForWorker (a URL that cannot
// work is a start error, exit 2); here only a server that does not answer
// remains, which checkChannels reports without stopping the worker.
func notifier(cfg config.Config, st store.Deliveries, pols *policySource) (*notify.Dispatcher, map[string]string, error) {
	var chans []notify.Channel
	envOf := map[string]string{} // channel → the variable that configures it
	n := cfg.Notify
	switch {
	case n.SlackBotToken != "":
		s, err := notify.NewSlackBot(n.SlackBotToken)
		if err != nil {
			return nil, nil, wrapEnv(config.EnvSlackBotToken, err)
		}
		chans, envOf[notify.ChannelSlack] = append(chans, s), config.EnvSlackBotToken
	case n.SlackWebhookURL != "":
		s, err := notify.NewSlackWebhook(n.SlackWebhookURL)
		if err != nil {
			return nil, nil, wrapEnv(config.EnvSlackWebhookURL, err)
		}
		chans, envOf[notify.ChannelSlack] = append(chans, s), config.EnvSlackWebhookURL
	}
	if n.SMTPURL != "" {
		e, err := notify.NewEmailURL(n.SMTPURL, n.EmailFrom)
		if err != nil {
			return nil, nil, wrapEnv(config.EnvSMTPURL+" / "+config.EnvEmailFrom, err)
		}
		chans, envOf[notify.ChannelEmail] = append(chans, e), config.EnvSMTPURL
	}
	if len(chans) == 0 {
		return nil, envOf, nil
	}
	return &notify.Dispatcher{
		Store:    st,
		Channels: chans,
		Policy: func() notify.Policy {
			p := pols.Current()
			return notify.Policy{Notifications: p.Notifications, Location: p.Location}
		},
		Links: notify.Links{PublicURL: cfg.PublicURL, TemporalUIURL: n.TemporalUIURL, Namespace: cfg.Namespace},
	}, envOf, nil
}

// checkChannels tries each channel once, off the start path: one that
// does not answer is a warning naming its variable, and its deliveries
// queue (the Notify activity retries) until it does.
func checkChannels(ctx context.Context, d *notify.Dispatcher, envOf map[string]string, log *zap.Logger, hk hooks) {
	if d == nil {
		return
	}
	for _, ch := range d.Channels {
		c, ok := ch.(checker)
		if !ok {
			continue
		}
		go func() {
			cctx, cancel := context.WithTimeout(ctx, notifyCheckTimeout)
			defer cancel()
			err := c.Check(cctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				log.Warn("notification channel does not answer at start; its notifications queue and are retried until it does",
					zap.String("channel", ch.Name()), zap.String("variable", envOf[ch.Name()]), zap.Error(err))
			}
			if hk.notifyChecked != nil {
				hk.notifyChecked(ch.Name(), err)
			}
		}()
	}
}

type envError struct {
	name string
	err  error
}

func (e *envError) Error() string { return e.name + ": " + e.err.Error() }
func (e *envError) Unwrap() error { return e.err }

func wrapEnv(name string, err error) error { return &envError{name: name, err: err} }
