       IDENTIFICATION DIVISION.
       PROGRAM-ID. ACCTINQ.
      *================================================================*
      * ACCTINQ  - ACCOUNT INQUIRY. LINKED BY DISPATCH WITH THE MESSAGE*
      *            (COMM-HDR + ACCTINQ-REQ); REPLIES COMM-HDR +        *
      *            ACCTINQ-RESP, OR THE HEADER ALONE WITH E101 WHEN THE*
      *            ACCOUNT IS NOT ON THE LEDGER. READS ONLY.           *
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
           COPY ACCTINQ.
       LINKAGE SECTION.
           COPY LKCOMM.
       PROCEDURE DIVISION USING LK-COMMAREA LK-MSG-LEN LK-REPLY-LEN.
       MAIN-LINE.
           PERFORM BEGIN-MESSAGE
           IF LK-MSG-LEN < WS-HDR-LEN + LENGTH OF ACCTINQ-REQ
               MOVE "E997" TO WS-RESP-CODE
               MOVE "HOST: INVALID REQUEST DATA" TO WS-RESP-MSG
           ELSE
               MOVE LK-COMMAREA(WS-HDR-LEN + 1:LENGTH OF ACCTINQ-REQ)
                 TO ACCTINQ-REQ
               PERFORM LOOK-UP-ACCOUNT
           END-IF
           IF WS-RESP-CODE = "0000"
               MOVE LENGTH OF ACCTINQ-RESP TO WS-BODY-LEN
               MOVE ACCTINQ-RESP
                 TO LK-COMMAREA(WS-HDR-LEN + 1:WS-BODY-LEN)
           END-IF
           PERFORM FINISH-REPLY
           GOBACK.
      *
       LOOK-UP-ACCOUNT.
           OPEN INPUT ACCOUNTS-FILE TXNS-FILE
           IF FS-ACCOUNTS NOT = "00" OR FS-TXNS NOT = "00"
               PERFORM LEDGER-ERROR
           ELSE
               MOVE ACCT-NO OF ACCTINQ-REQ TO AF-ACCT-NO
               READ ACCOUNTS-FILE INTO LEDGER-ACCT
               EVALUATE FS-ACCOUNTS
                   WHEN "00"
                       PERFORM ANSWER
                   WHEN "23"
                       MOVE "E101" TO WS-RESP-CODE
                       MOVE "ACCOUNT NOT FOUND" TO WS-RESP-MSG
                   WHEN OTHER
                       PERFORM LEDGER-ERROR
               END-EVALUATE
           END-IF
           CLOSE ACCOUNTS-FILE TXNS-FILE.
      *
       ANSWER.
           MOVE ACCT-NO OF ACCTINQ-REQ TO ACCT-NO OF ACCTINQ-RESP
           MOVE LA-CUST-NAME TO CUST-NAME
           MOVE LA-STATUS TO ACCT-STATUS
           MOVE LA-BALANCE TO BALANCE
           COMPUTE AVAIL-BAL = LA-BALANCE - LA-HOLD
           MOVE LA-INT-RATE TO INT-RATE
           MOVE 0 TO LAST-TXN-DATE
           IF LA-TXN-COUNT > 0
               MOVE LA-ACCT-NO TO LT-ACCT-NO
               MOVE LA-TXN-COUNT TO LT-SEQ
               MOVE LT-KEY TO TF-KEY
               READ TXNS-FILE INTO LEDGER-TXN
               IF FS-TXNS = "00"
                   MOVE LT-DATE TO LAST-TXN-DATE
               ELSE
                   PERFORM LEDGER-ERROR
               END-IF
           END-IF.
      *
           COPY MSGPROC.
