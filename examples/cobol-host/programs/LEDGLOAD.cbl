       IDENTIFICATION DIVISION.
       PROGRAM-ID. LEDGLOAD.
      *================================================================*
      * LEDGLOAD - BUILDS THE INDEXED LEDGER FROM SEQUENTIAL LOAD FILES*
      *            (A REPRO): ACCOUNTS.SEQ, TXNS.SEQ AND CONTROL.SEQ   *
      *            HOLD LEDGER.cpy RECORDS BACK TO BACK. EXISTING      *
      *            LEDGER FILES ARE REPLACED. RETURN CODE 0 = LOADED.  *
      *================================================================*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           COPY LEDGSEL.
           SELECT ACCOUNTS-LOAD ASSIGN TO "ACCOUNTS.SEQ"
               ORGANIZATION IS SEQUENTIAL FILE STATUS IS FS-LOAD.
           SELECT TXNS-LOAD ASSIGN TO "TXNS.SEQ"
               ORGANIZATION IS SEQUENTIAL FILE STATUS IS FS-LOAD.
           SELECT CONTROL-LOAD ASSIGN TO "CONTROL.SEQ"
               ORGANIZATION IS SEQUENTIAL FILE STATUS IS FS-LOAD.
       DATA DIVISION.
       FILE SECTION.
           COPY LEDGFD.
       FD  ACCOUNTS-LOAD.
       01  AL-REC                      PIC X(73).
       FD  TXNS-LOAD.
       01  TL-REC                      PIC X(73).
       FD  CONTROL-LOAD.
       01  CL-REC                      PIC X(18).
       WORKING-STORAGE SECTION.
           COPY LEDGWS.
           COPY LEDGER.
       01  FS-LOAD                     PIC XX.
       01  WS-LOADED                   PIC 9(8) VALUE 0.
       PROCEDURE DIVISION.
       MAIN-LINE.
           IF LENGTH OF LEDGER-ACCT NOT = LENGTH OF AF-REC
              OR LENGTH OF LEDGER-ACCT NOT = LENGTH OF AL-REC
              OR LENGTH OF LEDGER-TXN NOT = LENGTH OF TF-REC
              OR LENGTH OF LEDGER-TXN NOT = LENGTH OF TL-REC
              OR LENGTH OF LEDGER-CTL NOT = LENGTH OF CF-REC
              OR LENGTH OF LEDGER-CTL NOT = LENGTH OF CL-REC
               DISPLAY "LEDGLOAD: LEDGER.cpy AND LEDGFD.cpy DISAGREE"
                 UPON SYSERR
               PERFORM FAIL
           END-IF
           OPEN OUTPUT ACCOUNTS-FILE TXNS-FILE CONTROL-FILE
           IF FS-ACCOUNTS NOT = "00" OR FS-TXNS NOT = "00"
              OR FS-CONTROL NOT = "00"
               DISPLAY "LEDGLOAD: OPEN " FS-ACCOUNTS "/" FS-TXNS "/"
                 FS-CONTROL UPON SYSERR
               PERFORM FAIL
           END-IF
           PERFORM LOAD-ACCOUNTS
           PERFORM LOAD-TXNS
           PERFORM LOAD-CONTROL
           CLOSE ACCOUNTS-FILE TXNS-FILE CONTROL-FILE
           DISPLAY "LEDGLOAD: " WS-LOADED " RECORDS LOADED"
           MOVE 0 TO RETURN-CODE
           STOP RUN.
      *
       LOAD-ACCOUNTS.
           OPEN INPUT ACCOUNTS-LOAD
           PERFORM CHECK-LOAD
           PERFORM UNTIL FS-LOAD NOT = "00"
               READ ACCOUNTS-LOAD
               IF FS-LOAD = "00"
                   WRITE AF-REC FROM AL-REC
                   IF FS-ACCOUNTS NOT = "00"
                       DISPLAY "LEDGLOAD: ACCOUNTS WRITE " FS-ACCOUNTS
                         UPON SYSERR
                       PERFORM FAIL
                   END-IF
                   ADD 1 TO WS-LOADED
               END-IF
           END-PERFORM
           PERFORM CHECK-END
           CLOSE ACCOUNTS-LOAD.
      *
       LOAD-TXNS.
           OPEN INPUT TXNS-LOAD
           PERFORM CHECK-LOAD
           PERFORM UNTIL FS-LOAD NOT = "00"
               READ TXNS-LOAD
               IF FS-LOAD = "00"
                   WRITE TF-REC FROM TL-REC
                   IF FS-TXNS NOT = "00"
                       DISPLAY "LEDGLOAD: TXNS WRITE " FS-TXNS
                         UPON SYSERR
                       PERFORM FAIL
                   END-IF
                   ADD 1 TO WS-LOADED
               END-IF
           END-PERFORM
           PERFORM CHECK-END
           CLOSE TXNS-LOAD.
      *
       LOAD-CONTROL.
           OPEN INPUT CONTROL-LOAD
           PERFORM CHECK-LOAD
           PERFORM UNTIL FS-LOAD NOT = "00"
               READ CONTROL-LOAD
               IF FS-LOAD = "00"
                   WRITE CF-REC FROM CL-REC
                   IF FS-CONTROL NOT = "00"
                       DISPLAY "LEDGLOAD: CONTROL WRITE " FS-CONTROL
                         UPON SYSERR
                       PERFORM FAIL
                   END-IF
                   ADD 1 TO WS-LOADED
               END-IF
           END-PERFORM
           PERFORM CHECK-END
           CLOSE CONTROL-LOAD.
      *
       CHECK-LOAD.
           IF FS-LOAD NOT = "00"
               DISPLAY "LEDGLOAD: LOAD FILE OPEN " FS-LOAD UPON SYSERR
               PERFORM FAIL
           END-IF.
      *
      * A SHORT LAST RECORD (STATUS 04) OR ANY ERROR FAILS THE LOAD.
       CHECK-END.
           IF FS-LOAD NOT = "10"
               DISPLAY "LEDGLOAD: LOAD FILE READ " FS-LOAD UPON SYSERR
               PERFORM FAIL
           END-IF.
      *
       FAIL.
           MOVE 8 TO RETURN-CODE
           STOP RUN.
