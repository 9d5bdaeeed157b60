       IDENTIFICATION DIVISION.
       PROGRAM-ID. DISPATCH.
      *================================================================*
      * DISPATCH - THE CICS-LIKE DISPATCHER: ONE MESSAGE PER RUN.      *
      *              DISPATCH REQUEST-FILE REPLY-FILE                  *
      *            READS THE MESSAGE'S RAW BYTES, LOOKS ITS            *
      *            HDR-TRAN-CODE UP IN THE PROGRAM TABLE BELOW (NEVER  *
      *            CALLS A NAME FROM THE WIRE), LINKS TO THAT PROGRAM  *
      *            WITH THE MESSAGE AS COMMAREA AND WRITES THE REPLY   *
      *            BYTES IT LEAVES THERE. ANSWERS E999 (SHORT MESSAGE),*
      *            E998 (UNKNOWN TRANSACTION) AND E995 (PROGRAM NOT    *
      *            INSTALLED) ITSELF, WITH THE HEADER ALONE, AND THE   *
      *            LINK POLL HEARTBT WITH 0000 (NO PROGRAM RUNS).      *
      *================================================================*
       DATA DIVISION.
       WORKING-STORAGE SECTION.
       01  WS-REQ-PATH                 PIC X(1024).
       01  WS-REP-PATH                 PIC X(1024).
       01  WS-HANDLE                   PIC X(4) USAGE COMP-X.
       01  WS-OFFSET                   PIC X(8) USAGE COMP-X.
       01  WS-COUNT                    PIC X(4) USAGE COMP-X.
       01  WS-FLAGS                    PIC X USAGE COMP-X.
       01  WS-PROGRAM                  PIC X(8).
       01  WS-HDR-LEN                  PIC S9(8) COMP.
       01  WS-MSG-LEN                  PIC S9(8) COMP.
       01  WS-REPLY-LEN                PIC S9(8) COMP.
       01  WS-COMMAREA                 PIC X(4096).
       01  WS-NOW                      PIC 9(14).
           COPY COMMHDR.
       PROCEDURE DIVISION.
       MAIN-LINE.
           MOVE LENGTH OF COMM-HDR TO WS-HDR-LEN
           ACCEPT WS-REQ-PATH FROM ARGUMENT-VALUE
           ACCEPT WS-REP-PATH FROM ARGUMENT-VALUE
           PERFORM RECEIVE-MESSAGE
           IF WS-MSG-LEN < WS-HDR-LEN
               INITIALIZE COMM-HDR
               MOVE "E999" TO HDR-RESP-CODE
               MOVE "HOST: UNREADABLE HEADER" TO HDR-RESP-MSG
               PERFORM HEADER-ONLY-REPLY
           ELSE
               MOVE WS-COMMAREA(1:WS-HDR-LEN) TO COMM-HDR
               PERFORM LINK-PROGRAM
           END-IF
           PERFORM SEND-REPLY
           STOP RUN.
      *
      * THE PROGRAM CONTROL TABLE: TRANSACTION CODE -> PROGRAM.
       LINK-PROGRAM.
           EVALUATE HDR-TRAN-CODE
               WHEN "ACCTINQ " MOVE "ACCTINQ" TO WS-PROGRAM
               WHEN "TXNHIST " MOVE "TXNHIST" TO WS-PROGRAM
               WHEN "XFER    " MOVE "XFER" TO WS-PROGRAM
               WHEN "HEARTBT " MOVE "*POLL" TO WS-PROGRAM
               WHEN OTHER MOVE SPACES TO WS-PROGRAM
           END-EVALUATE
           EVALUATE WS-PROGRAM
      *        A LINK POLL: THE LINK IS UP, ANSWER WITH THE HEADER.
               WHEN "*POLL"
                   MOVE "0000" TO HDR-RESP-CODE
                   MOVE SPACES TO HDR-RESP-MSG
                   PERFORM HEADER-ONLY-REPLY
               WHEN SPACES
                   MOVE "E998" TO HDR-RESP-CODE
                   MOVE "HOST: UNKNOWN TRANSACTION" TO HDR-RESP-MSG
                   PERFORM HEADER-ONLY-REPLY
               WHEN OTHER
                   MOVE 0 TO WS-REPLY-LEN
                   CALL WS-PROGRAM
                       USING WS-COMMAREA WS-MSG-LEN WS-REPLY-LEN
                       ON EXCEPTION
                           MOVE "E995" TO HDR-RESP-CODE
                           MOVE "HOST: PROGRAM NOT INSTALLED"
                             TO HDR-RESP-MSG
                           PERFORM HEADER-ONLY-REPLY
                   END-CALL
           END-EVALUATE.
      *
       HEADER-ONLY-REPLY.
           MOVE FUNCTION CURRENT-DATE(1:14) TO WS-NOW
           MOVE WS-NOW TO HDR-TIMESTAMP
           MOVE WS-HDR-LEN TO HDR-MSG-LEN
           MOVE COMM-HDR TO WS-COMMAREA(1:WS-HDR-LEN)
           MOVE WS-HDR-LEN TO WS-REPLY-LEN.
      *
       RECEIVE-MESSAGE.
           MOVE 0 TO WS-MSG-LEN
           CALL "CBL_OPEN_FILE" USING WS-REQ-PATH 1 0 0 WS-HANDLE
           IF RETURN-CODE NOT = 0
               DISPLAY "DISPATCH: CANNOT OPEN "
                 FUNCTION TRIM(WS-REQ-PATH)
                 UPON SYSERR
               MOVE 12 TO RETURN-CODE
               STOP RUN
           END-IF
      *    FLAGS 128: RETURN THE FILE'S SIZE IN THE OFFSET.
           MOVE 0 TO WS-OFFSET WS-COUNT
           MOVE 128 TO WS-FLAGS
           CALL "CBL_READ_FILE"
               USING WS-HANDLE WS-OFFSET WS-COUNT WS-FLAGS WS-COMMAREA
           IF WS-OFFSET > LENGTH OF WS-COMMAREA
               MOVE LENGTH OF WS-COMMAREA TO WS-OFFSET
           END-IF
           MOVE WS-OFFSET TO WS-COUNT WS-MSG-LEN
           IF WS-COUNT > 0
               MOVE 0 TO WS-OFFSET WS-FLAGS
               CALL "CBL_READ_FILE"
                   USING WS-HANDLE WS-OFFSET WS-COUNT WS-FLAGS
                         WS-COMMAREA
               IF RETURN-CODE NOT = 0
                   MOVE 0 TO WS-MSG-LEN
               END-IF
           END-IF
           CALL "CBL_CLOSE_FILE" USING WS-HANDLE.
      *
       SEND-REPLY.
           CALL "CBL_CREATE_FILE" USING WS-REP-PATH 2 0 0 WS-HANDLE
           IF RETURN-CODE NOT = 0
               DISPLAY "DISPATCH: CANNOT CREATE "
                 FUNCTION TRIM(WS-REP-PATH) UPON SYSERR
               MOVE 12 TO RETURN-CODE
               STOP RUN
           END-IF
           MOVE 0 TO WS-OFFSET WS-FLAGS
           MOVE WS-REPLY-LEN TO WS-COUNT
           CALL "CBL_WRITE_FILE"
               USING WS-HANDLE WS-OFFSET WS-COUNT WS-FLAGS WS-COMMAREA
           CALL "CBL_CLOSE_FILE" USING WS-HANDLE
           MOVE 0 TO RETURN-CODE.
