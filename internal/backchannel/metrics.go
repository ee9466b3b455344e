package backchannel

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts delivery attempts by outcome.
type Metrics struct {
	attempts *prometheus.CounterVec
}

// NewMetrics registers the delivery metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sesame_backchannel_attempts_total",
		Help: "Back-channel logout delivery attempts by result: delivered, retry, failed.",
	}, []string{"result"})}
	reg.MustRegister(m.attempts)
	return m
}

func (m *Metrics) observe(o Outcome) {
	if m == nil {
		return
	}
	switch o {
	case Delivered:
		m.attempts.WithLabelValues("delivered").Inc()
	case Retry:
		m.attempts.WithLabelValues("retry").Inc()
	case Failed:
		m.attempts.WithLabelValues("failed").Inc()
	}
}
