       IDENTIFICATION DIVISION.
       PROGRAM-ID. XFER.
      *================================================================*
      * XFER     - TRANSFER AMOUNT FROM FROM-ACCT TO TO-ACCT.          *
      *            REFUSES (HEADER ALONE, NOTHING WRITTEN):            *
      *              E301 AMOUNT NOT POSITIVE OR SAME ACCOUNT          *
      *              E101 AN ACCOUNT NOT ON THE LEDGER                 *
      *              E102 AN ACCOUNT NOT ACTIVE                        *
      *              E201 BALANCE - HOLD BELOW THE AMOUNT              *
      *            OTHERWISE REWRITES BOTH ACCOUNTS, APPENDS A 'TO' ROW*
      *            AND A 'TI' ROW TO THE HISTORY AND TAKES THE NEXT    *
      *            XFER-REF ('XF' + DATE + 10-DIGIT COUNTER). EVERY    *
      *            CHECK IS MADE BEFORE THE FIRST WRITE; THE DISPATCHER*
      *            RUNS ONE TRANSACTION AT A TIME.                     *
      *================================================================*
       ENVIRONMENT DIVISION.
       INPUT-OUTPUT SECTION.
       FILE-CONTROL.
           COPY LEDGSEL.
       DATA DIVISION.
       FILE SECTION.
           COPY LEDGFD.
       WORKING-STORAGE SECTION.
           COPY LEDGWS.
           COPY LEDGER.
           COPY COMMHDR.
           COPY XFER.
       01  WS-FROM                     PIC X(73).
       01  WS-TO                       PIC X(73).
       01  WS-FROM-BAL                 PIC S9(13)V99 COMP-3.
       01  WS-TO-BAL                   PIC S9(13)V99 COMP-3.
       01  WS-REF.
           05  FILLER                  PIC XX VALUE "XF".
           05  WS-REF-DATE             PIC 9(8).
           05  WS-REF-NO               PIC 9(10).
       LINKAGE SECTION.
           COPY LKCOMM.
       PROCEDURE DIVISION USING LK-COMMAREA LK-MSG-LEN LK-REPLY-LEN.
       MAIN-LINE.
           PERFORM BEGIN-MESSAGE
           IF LK-MSG-LEN < WS-HDR-LEN + LENGTH OF XFER-REQ
               MOVE "E997" TO WS-RESP-CODE
               MOVE "HOST: INVALID REQUEST DATA" TO WS-RESP-MSG
           ELSE
               MOVE LK-COMMAREA(WS-HDR-LEN + 1:LENGTH OF XFER-REQ)
                 TO XFER-REQ
               IF AMOUNT NOT NUMERIC
                   MOVE "E997" TO WS-RESP-CODE
                   MOVE "HOST: INVALID REQUEST DATA" TO WS-RESP-MSG
               ELSE
                   IF AMOUNT NOT > 0
                      OR FROM-ACCT OF XFER-REQ = TO-ACCT
                       MOVE "E301" TO WS-RESP-CODE
                       MOVE "INVALID REQUEST" TO WS-RESP-MSG
                   ELSE
                       PERFORM TRANSFER
                   END-IF
               END-IF
           END-IF
           IF WS-RESP-CODE = "0000"
               MOVE LENGTH OF XFER-RESP TO WS-BODY-LEN
               MOVE XFER-RESP
                 TO LK-COMMAREA(WS-HDR-LEN + 1:WS-BODY-LEN)
           END-IF
           PERFORM FINISH-REPLY
           GOBACK.
      *
       TRANSFER.
           OPEN I-O ACCOUNTS-FILE TXNS-FILE CONTROL-FILE
           IF FS-ACCOUNTS NOT = "00" OR FS-TXNS NOT = "00"
              OR FS-CONTROL NOT = "00"
               PERFORM LEDGER-ERROR
           ELSE
               PERFORM CHECK-ACCOUNTS
               IF WS-RESP-CODE = "0000"
                   PERFORM POST-TRANSFER
               END-IF
           END-IF
           CLOSE ACCOUNTS-FILE TXNS-FILE CONTROL-FILE.
      *
      * THE SAME ORDER AS THE RULES IN src/sim/ledger.rs: THE SOURCE
      * ACCOUNT, THEN THE TARGET, THEN THE MONEY.
       CHECK-ACCOUNTS.
           MOVE FROM-ACCT OF XFER-REQ TO AF-ACCT-NO
           PERFORM CHECK-ONE
           MOVE LEDGER-ACCT TO WS-FROM
           IF WS-RESP-CODE = "0000"
               MOVE TO-ACCT TO AF-ACCT-NO
               PERFORM CHECK-ONE
               MOVE LEDGER-ACCT TO WS-TO
           END-IF
           IF WS-RESP-CODE = "0000"
               MOVE WS-FROM TO LEDGER-ACCT
               IF LA-BALANCE - LA-HOLD < AMOUNT
                   MOVE "E201" TO WS-RESP-CODE
                   MOVE "INSUFFICIENT FUNDS" TO WS-RESP-MSG
               ELSE
                   COMPUTE WS-FROM-BAL = LA-BALANCE - AMOUNT
                       ON SIZE ERROR
                           MOVE "E301" TO WS-RESP-CODE
                           MOVE "INVALID REQUEST" TO WS-RESP-MSG
                   END-COMPUTE
                   MOVE WS-TO TO LEDGER-ACCT
                   COMPUTE WS-TO-BAL = LA-BALANCE + AMOUNT
                       ON SIZE ERROR
                           MOVE "E301" TO WS-RESP-CODE
                           MOVE "INVALID REQUEST" TO WS-RESP-MSG
                   END-COMPUTE
               END-IF
           END-IF.
      *
       CHECK-ONE.
           READ ACCOUNTS-FILE INTO LEDGER-ACCT
           EVALUATE FS-ACCOUNTS
               WHEN "00"
                   IF NOT LA-ACTIVE
                       MOVE "E102" TO WS-RESP-CODE
                       MOVE "ACCOUNT NOT ACTIVE" TO WS-RESP-MSG
                   END-IF
               WHEN "23"
                   MOVE "E101" TO WS-RESP-CODE
                   MOVE "ACCOUNT NOT FOUND" TO WS-RESP-MSG
               WHEN OTHER
                   PERFORM LEDGER-ERROR
           END-EVALUATE.
      *
       POST-TRANSFER.
           MOVE "XFERREF" TO CF-KEY
           READ CONTROL-FILE INTO LEDGER-CTL
           IF FS-CONTROL NOT = "00"
               PERFORM LEDGER-ERROR
           ELSE
               MOVE WS-NOW-DATE TO WS-REF-DATE
               MOVE LC-NEXT-REF TO WS-REF-NO
               ADD 1 TO LC-NEXT-REF
               REWRITE CF-REC FROM LEDGER-CTL
               IF FS-CONTROL NOT = "00"
                   PERFORM LEDGER-ERROR
               END-IF
               MOVE WS-FROM TO LEDGER-ACCT
               MOVE WS-FROM-BAL TO LA-BALANCE
               COMPUTE LT-AMT = 0 - AMOUNT
               MOVE "TO" TO LT-TYPE
               PERFORM POST-ONE
               MOVE WS-TO TO LEDGER-ACCT
               MOVE WS-TO-BAL TO LA-BALANCE
               MOVE AMOUNT TO LT-AMT
               MOVE "TI" TO LT-TYPE
               PERFORM POST-ONE
               MOVE FROM-ACCT OF XFER-REQ TO FROM-ACCT OF XFER-RESP
               MOVE WS-FROM-BAL TO FROM-BAL-AFTER
               MOVE WS-REF TO XFER-REF
           END-IF.
      *
      * REWRITES THE ACCOUNT IN LEDGER-ACCT AND APPENDS ITS HISTORY ROW
      * (LT-TYPE AND LT-AMT SET BY THE CALLER).
       POST-ONE.
           ADD 1 TO LA-TXN-COUNT
           REWRITE AF-REC FROM LEDGER-ACCT
           MOVE LA-ACCT-NO TO LT-ACCT-NO
           MOVE LA-TXN-COUNT TO LT-SEQ
           MOVE WS-NOW-DATE TO LT-DATE
           MOVE WS-NOW-TIME TO LT-TIME
           MOVE LA-BALANCE TO LT-BAL
           MOVE MEMO TO LT-MEMO
           WRITE TF-REC FROM LEDGER-TXN
           IF FS-ACCOUNTS NOT = "00" OR FS-TXNS NOT = "00"
               PERFORM LEDGER-ERROR
           END-IF.
      *
           COPY MSGPROC.
