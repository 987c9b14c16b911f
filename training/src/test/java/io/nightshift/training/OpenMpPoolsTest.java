package io.nightshift.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.nightshift.testing.SparkTestSession;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class OpenMpPoolsTest {
  private static long threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
  }

  @Test
  void resultGetterAndTaskThreadsExitWhenIdleInLocalMode() throws Exception {
    SparkSession spark = SparkTestSession.get();
    assertThat(OpenMpPools.releaseWhenIdle(spark)).isTrue();
    assertThat(OpenMpPools.releaseWhenIdle(spark)).isTrue(); // idempotent

    ThreadPoolExecutor getters = OpenMpPools.resultGetters(spark.sparkContext());
    assertThat(getters.allowsCoreThreadTimeOut()).isTrue();
    assertThat(getters.getKeepAliveTime(TimeUnit.MILLISECONDS)).isEqualTo(OpenMpPools.IDLE_MS);
    ThreadPoolExecutor tasks = OpenMpPools.localTaskThreads();
    assertThat(tasks.getKeepAliveTime(TimeUnit.MILLISECONDS)).isEqualTo(OpenMpPools.IDLE_MS);

    // a job runs on task threads and its results go through getter threads; once idle, both exit (and any OpenMP
    // pool with them), well before Spark's default 60 s for task threads
    assertThat(spark.range(0, 1000, 1, 4).count()).isEqualTo(1000);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((threads("task-result-getter") > 0 || threads("Executor task launch worker") > 0) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(threads("task-result-getter")).isZero();
    assertThat(threads("Executor task launch worker")).isZero();
    // and Spark starts new ones for the next job's results
    assertThat(spark.range(0, 10, 1, 2).count()).isEqualTo(10);
  }
}
