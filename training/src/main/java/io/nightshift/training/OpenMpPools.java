package io.nightshift.training;

import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.Executor;
import org.apache.spark.executor.ExecutorSource;
import org.apache.spark.scheduler.TaskSchedulerImpl;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps idle OpenMP thread pools from slowing XGBoost training when the driver and the executor share a JVM (Spark's
 * {@code local[N]} master: the demo, tests, single-machine nightly runs).
 *
 * <p>XGBoost's OpenMP runtime (libgomp) gives every thread that runs a parallel region a pool of worker threads, kept
 * until that thread exits. Once the process holds more such workers than it has CPUs, every waiting OpenMP thread
 * spins only about 100 times before it sleeps, so each of the many short parallel regions of a boosting round pays a
 * futex wake-up. In local mode two kinds of long-lived Spark threads collect such pools:
 *
 * <ul>
 *   <li>the {@code task-result-getter} threads (a fixed pool whose threads never exit) deserialize every task result,
 *       including the trained booster XGBoost4J-Spark returns; loading a booster runs a parallel region;
 *   <li>the executor's task threads (idle ones live 60 s) that ran predictions or an earlier fit.
 * </ul>
 *
 * On 2 cores one such pool is enough to throttle the next fit: back-to-back fits of the benchmark's model took 7.6-9.0
 * s with the getter threads' pools and 6.4-7.0 s without them (alternating, same JVM, 4 of 4 pairs).
 *
 * <p>{@link #releaseWhenIdle} lets both kinds of thread exit after {@link #IDLE_MS} of idleness; libgomp frees a pool
 * when its thread exits, and Spark starts a new thread for the next result or task (microseconds). Only local masters
 * are touched: on a cluster the driver's threads are not in the executors' processes.
 */
public final class OpenMpPools {
  private static final Logger LOG = LoggerFactory.getLogger(OpenMpPools.class);

  /** How long an idle task-result-getter or task thread lives (and so its OpenMP pool). */
  static final long IDLE_MS = 100;

  private OpenMpPools() {}

  /**
   * In a local-mode session, lets Spark's task-result-getter and task threads exit when idle. Idempotent; returns
   * whether the setting is (now) in effect. It reaches into Spark 3.5's scheduler; where those internals differ it
   * changes nothing and returns false: training is then as fast as before, never wrong.
   */
  public static boolean releaseWhenIdle(SparkSession spark) {
    SparkContext sc = spark.sparkContext();
    if (!sc.isLocal()) {
      return false;
    }
    try {
      ThreadPoolExecutor getters = resultGetters(sc);
      ThreadPoolExecutor tasks = localTaskThreads();
      if (getters == null || tasks == null) {
        return false;
      }
      if (!getters.allowsCoreThreadTimeOut()) {
        LOG.debug("Spark's task-result-getter and task threads now exit after {} ms idle, their OpenMP pools with them", IDLE_MS);
      }
      expireWhenIdle(getters);
      expireWhenIdle(tasks);
      return true;
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("Left Spark's task-result-getter and task threads as they are: {}", e.toString());
      return false;
    }
  }

  /** Spark's task-result-getter threads (a fixed pool), or null where the scheduler is not Spark 3.5's. */
  static ThreadPoolExecutor resultGetters(SparkContext sc) {
    return sc.taskScheduler() instanceof TaskSchedulerImpl impl
            && impl.taskResultGetter().getTaskResultExecutor() instanceof ThreadPoolExecutor pool
        ? pool
        : null;
  }

  /**
   * The local executor's task threads (a cached pool: idle threads live 60 s), or null without a local executor.
   * Spark keeps a reference to them for local-mode metrics, the only handle on them from outside.
   */
  static ThreadPoolExecutor localTaskThreads() {
    ExecutorSource source = Executor.executorSourceLocalModeOnly();
    return source == null ? null : source.org$apache$spark$executor$ExecutorSource$$threadPool;
  }

  private static void expireWhenIdle(ThreadPoolExecutor pool) {
    pool.setKeepAliveTime(IDLE_MS, TimeUnit.MILLISECONDS);
    pool.allowCoreThreadTimeOut(true); // the getters' fixed pool: its core threads too; no-op for a cached pool
  }
}
