package io.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.core.UseCase;
import io.nightshift.scoring.monitoring.MetricsPush;
import io.nightshift.scoring.monitoring.Monitor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Which monitoring runs push their metrics: the Pushgateway group of a use case holds its newest night's. */
class MonitorCommandTest {
  static final LocalDate NIGHT = LocalDate.of(2024, 12, 26);

  /** A Pushgateway stand-in that records each push's grouping key. */
  static final class Recording implements MetricsPush {
    final List<Map<String, String>> groups = new ArrayList<>();

    @Override
    public void push(Map<String, String> grouping, String exposition) {
      groups.add(grouping);
    }
  }

  static Monitor.Result result(LocalDate date) {
    StructType stats = new StructType().add("rows", "long").add("mean", "double");
    return new Monitor.Result(UseCase.DEMAND, date, new GenericRowWithSchema(new Object[] {10L, 2.5}, stats),
        List.of(), List.of(), List.of(), List.of());
  }

  @Test
  void aNightOlderThanTheNewestMonitoredIsNotPushedSoTheNewestNightsMetricsStay() {
    StringWriter err = new StringWriter();
    Recording gateway = new Recording();

    // a backfill of NIGHT after NIGHT+1 was monitored: pushing would replace NIGHT+1's metrics and its timestamp
    assertThat(MonitorCommand.push(gateway, result(NIGHT), NIGHT.plusDays(1), new PrintWriter(err, true))).isFalse();
    assertThat(gateway.groups).isEmpty();

    // the newest night (monitored for the first time, or re-run) is pushed to the use case's group
    assertThat(MonitorCommand.push(gateway, result(NIGHT), NIGHT, new PrintWriter(err, true))).isTrue();
    assertThat(gateway.groups).containsExactly(Map.of("job", "nightshift_monitor", "use_case", "demand"));
    assertThat(err.toString()).isEmpty();
  }
}
