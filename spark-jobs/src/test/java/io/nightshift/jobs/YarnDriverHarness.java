package io.nightshift.jobs;

/**
 * Calls {@link NightshiftCli#main} the way a YARN application master runs a cluster-mode driver (with the system
 * properties it sets) and prints what came back, which a JVM that {@code main} ended with System.exit never gets to.
 */
final class YarnDriverHarness {
  private YarnDriverHarness() {}

  public static void main(String[] args) throws Exception {
    if (Boolean.getBoolean("harness.yarn")) {
      System.setProperty("spark.master", "yarn");
      System.setProperty("spark.submit.deployMode", "cluster");
    }
    try {
      NightshiftCli.main(args);
      System.out.println("harness: main returned");
    } catch (Exception e) {
      if (!(e instanceof org.apache.spark.SparkUserAppException u)) {
        throw e;
      }
      System.out.println("harness: main threw SparkUserAppException(" + u.exitCode() + ")");
    }
  }
}
