       IDENTIFICATION DIVISION.
       PROGRAM-ID. TXNHIST.
      *================================================================*
      * TXNHIST  - TRANSACTION HISTORY, NEWEST FIRST: THE ACCOUNT'S    *
      *            ROWS DATED FROM-DATE..TO-DATE (TO-DATE 0 = NO END), *
      *            AT MOST MAX-ROWS (CAPPED AT 50). THE REPLY IS AS    *
      *            LONG AS ITS ROWS (OCCURS DEPENDING ON ROW-COUNT).   *
      *            PAGED: A FULL PAGE WITH ROWS LEFT BELOW IT HANDS    *
      *            OUT NEXT-KEY 'H' + THE NEXT ROW'S 7-DIGIT SEQUENCE; *
      *            THE NEXT REQUEST SENDS IT BACK AND RESUMES THERE.   *
      *            A KEY NOT OF THIS FORM, OR PAST THE HISTORY: E302.  *
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
           COPY TXNHIST.
       01  WS-MAX                      PIC 9(3).
       01  WS-SEQ                      PIC S9(7) COMP-3.
       01  WS-START                    PIC S9(7) COMP-3.
       01  WS-KEY-NUM                  PIC 9(7).
       01  WS-KEY-OK                   PIC X.
       LINKAGE SECTION.
           COPY LKCOMM.
       PROCEDURE DIVISION USING LK-COMMAREA LK-MSG-LEN LK-REPLY-LEN.
       MAIN-LINE.
           PERFORM BEGIN-MESSAGE
           IF LK-MSG-LEN < WS-HDR-LEN + LENGTH OF TXNHIST-REQ
               MOVE "E997" TO WS-RESP-CODE
               MOVE "HOST: INVALID REQUEST DATA" TO WS-RESP-MSG
           ELSE
               MOVE LK-COMMAREA(WS-HDR-LEN + 1:LENGTH OF TXNHIST-REQ)
                 TO TXNHIST-REQ
               IF FROM-DATE NOT NUMERIC OR TO-DATE NOT NUMERIC
                  OR MAX-ROWS NOT NUMERIC
                   MOVE "E997" TO WS-RESP-CODE
                   MOVE "HOST: INVALID REQUEST DATA" TO WS-RESP-MSG
               ELSE
                   PERFORM LIST-HISTORY
               END-IF
           END-IF
           IF WS-RESP-CODE = "0000"
      *        THE RECORD'S LENGTH FOLLOWS ROW-COUNT (ODO, LAST ITEM).
               MOVE LENGTH OF TXNHIST-RESP TO WS-BODY-LEN
               MOVE TXNHIST-RESP
                 TO LK-COMMAREA(WS-HDR-LEN + 1:WS-BODY-LEN)
           END-IF
           PERFORM FINISH-REPLY
           GOBACK.
      *
       LIST-HISTORY.
           OPEN INPUT ACCOUNTS-FILE TXNS-FILE
           IF FS-ACCOUNTS NOT = "00" OR FS-TXNS NOT = "00"
               PERFORM LEDGER-ERROR
           ELSE
               MOVE ACCT-NO OF TXNHIST-REQ TO AF-ACCT-NO
               READ ACCOUNTS-FILE INTO LEDGER-ACCT
               EVALUATE FS-ACCOUNTS
                   WHEN "00"
                       PERFORM RESUME-POINT
                       IF WS-KEY-OK = "Y"
                           PERFORM COLLECT-ROWS
                       ELSE
                           MOVE "E302" TO WS-RESP-CODE
                           MOVE "INVALID NEXT KEY" TO WS-RESP-MSG
                       END-IF
                   WHEN "23"
                       MOVE "E101" TO WS-RESP-CODE
                       MOVE "ACCOUNT NOT FOUND" TO WS-RESP-MSG
                   WHEN OTHER
                       PERFORM LEDGER-ERROR
               END-EVALUATE
           END-IF
           CLOSE ACCOUNTS-FILE TXNS-FILE.
      *
      * WHERE THIS PAGE STARTS: THE NEWEST ROW, OR THE ROW THE KEY NAMES.
       RESUME-POINT.
           MOVE "Y" TO WS-KEY-OK
           MOVE LA-TXN-COUNT TO WS-START
           IF NEXT-KEY OF TXNHIST-REQ NOT = SPACES
               IF NEXT-KEY OF TXNHIST-REQ (1:1) = "H"
                  AND NEXT-KEY OF TXNHIST-REQ (2:7) IS NUMERIC
                  AND NEXT-KEY OF TXNHIST-REQ (9:2) = SPACES
                   MOVE NEXT-KEY OF TXNHIST-REQ (2:7) TO WS-KEY-NUM
                   MOVE WS-KEY-NUM TO WS-START
                   IF WS-START < 1 OR WS-START > LA-TXN-COUNT
                       MOVE "N" TO WS-KEY-OK
                   END-IF
               ELSE
                   MOVE "N" TO WS-KEY-OK
               END-IF
           END-IF.
      *
       COLLECT-ROWS.
           MOVE ACCT-NO OF TXNHIST-REQ TO ACCT-NO OF TXNHIST-RESP
           MOVE SPACES TO NEXT-KEY OF TXNHIST-RESP
           MOVE MAX-ROWS TO WS-MAX
           IF WS-MAX > 50
               MOVE 50 TO WS-MAX
           END-IF
           MOVE 0 TO ROW-COUNT
           PERFORM VARYING WS-SEQ FROM WS-START BY -1
                   UNTIL WS-SEQ < 1 OR ROW-COUNT >= WS-MAX
                      OR WS-RESP-CODE NOT = "0000"
               MOVE LA-ACCT-NO TO LT-ACCT-NO
               MOVE WS-SEQ TO LT-SEQ
               MOVE LT-KEY TO TF-KEY
               READ TXNS-FILE INTO LEDGER-TXN
               IF FS-TXNS NOT = "00"
                   PERFORM LEDGER-ERROR
               ELSE
                   IF LT-DATE >= FROM-DATE
                      AND (TO-DATE = 0 OR LT-DATE <= TO-DATE)
                       ADD 1 TO ROW-COUNT
                       MOVE LT-DATE TO TXN-DATE (ROW-COUNT)
                       MOVE LT-TIME TO TXN-TIME (ROW-COUNT)
                       MOVE LT-TYPE TO TXN-TYPE (ROW-COUNT)
                       MOVE LT-AMT  TO TXN-AMT  (ROW-COUNT)
                       MOVE LT-BAL  TO TXN-BAL  (ROW-COUNT)
                       MOVE LT-MEMO TO TXN-MEMO (ROW-COUNT)
                   END-IF
               END-IF
           END-PERFORM
      *    A FULL PAGE WITH ROWS LEFT BELOW IT: THE NEXT ROW'S KEY.
           IF WS-RESP-CODE = "0000" AND WS-MAX > 0
              AND ROW-COUNT >= WS-MAX AND WS-SEQ >= 1
               MOVE WS-SEQ TO WS-KEY-NUM
               MOVE "H" TO NEXT-KEY OF TXNHIST-RESP (1:1)
               MOVE WS-KEY-NUM TO NEXT-KEY OF TXNHIST-RESP (2:7)
           END-IF.
      *
           COPY MSGPROC.
