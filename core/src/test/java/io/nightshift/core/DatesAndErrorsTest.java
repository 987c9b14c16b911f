package io.nightshift.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

class DatesAndErrorsTest {
  @Test
  void parsesIsoDates() {
    assertThat(Dates.parse("--date", "2024-02-29")).isEqualTo(LocalDate.of(2024, 2, 29));
    assertThat(Dates.parse("--date", " 2024-01-05 ")).isEqualTo(LocalDate.of(2024, 1, 5));
  }

  @Test
  void rejectsOtherFormatsNamingOptionAndFix() {
    assertThatThrownBy(() -> Dates.parse("--as-of", "05/01/2024"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--as-of")
        .hasMessageContaining("'05/01/2024'")
        .hasMessageContaining("YYYY-MM-DD");
    assertThatThrownBy(() -> Dates.parse("--date", "2023-02-29"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'2023-02-29'");
    assertThatThrownBy(() -> Dates.parse("--date", null))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("--date");
  }

  @Test
  void parsesUseCaseSelections() {
    assertThat(UseCase.parseSelection("--use-case", "all"))
        .containsExactly(UseCase.DEMAND, UseCase.MAINTENANCE);
    assertThat(UseCase.parseSelection("--use-case", "Demand")).containsExactly(UseCase.DEMAND);
    assertThatThrownBy(() -> UseCase.parseSelection("--use-case", "churn"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("'churn'")
        .hasMessageContaining("demand, maintenance or all");
  }

  @Test
  void warehouseLayoutIsStableAndTrimsTrailingSlash() {
    Warehouse w = new Warehouse("s3a://bucket/ns/");
    assertThat(w.features(UseCase.DEMAND)).isEqualTo("s3a://bucket/ns/features/demand_daily");
    assertThat(w.predictions(UseCase.MAINTENANCE)).isEqualTo("s3a://bucket/ns/predictions/maintenance");
    assertThat(w.rawSales()).isEqualTo("s3a://bucket/ns/raw/sales");
  }

  @Test
  void unknownAliasListsKnownAliases() {
    assertThat(Errors.unknownModelAlias("m", "gold", List.of("champion", "challenger")).getMessage())
        .contains("m@gold")
        .contains("challenger, champion")
        .contains("nightshift train");
  }

  @Test
  void unknownVersionListsTheModelsVersionsInNumericOrderTheNewestTenAtMost() {
    assertThat(Errors.unknownModelVersion("m", "99", List.of("10", "2", "1")).getMessage())
        .startsWith("Unknown model version: m/99 does not exist (versions of m: 1, 2, 10).")
        .contains("m@champion");
    List<String> many = java.util.stream.IntStream.rangeClosed(1, 12).mapToObj(Integer::toString).toList();
    assertThat(Errors.unknownModelVersion("m", "0", many).getMessage())
        .contains("(versions of m: ..., 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)");
    assertThat(Errors.unknownModelVersion("m", "1", List.of()).getMessage()).contains("(versions of m: none)");
  }
}
